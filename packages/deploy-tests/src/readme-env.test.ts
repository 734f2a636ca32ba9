/** The README documents every environment variable any service reads. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { AggregatorEnv } from '@cvd/aggregator';
import { configEnvShape } from '@cvd/config';
import { ingestEnvShape } from '@cvd/ingest';
import { WebEnv } from '@cvd/web';

const README = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

test('every environment variable of every service is in the README', () => {
  const keys = new Set([...Object.keys(configEnvShape), ...Object.keys(ingestEnvShape), ...Object.keys(AggregatorEnv.shape), ...Object.keys(WebEnv.shape)]);
  const missing = [...keys].filter((k) => !new RegExp(`\`${k}\``).test(README));
  assert.deepEqual(missing, [], `README.md lacks: ${missing.join(', ')}`);
});
