import { randomBytes } from 'node:crypto';

/** A name no other test (or earlier run) uses: `<prefix>.<time36><random>`. */
export function uniqueTopic(prefix = 'test'): string {
  return `${prefix}.${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A QuestDB table name (letters, digits, underscores) no other test uses. */
export function uniqueTable(prefix = 'test'): string {
  return `${prefix}_${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
}

/** A consumer group or transactional id no other test uses. */
export function uniqueId(prefix = 'test'): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;
}
