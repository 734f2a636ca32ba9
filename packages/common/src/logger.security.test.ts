/**
 * The services' real logger set-up (`createLogger`) censors secrets wherever the code puts
 * them in a log object: settings, headers, errors carrying settings, parsed environments.
 * Redaction is by key, so secrets must never be interpolated into message text: the env
 * parser's messages are checked for that separately.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { parseEnv } from './env.js';
import { createLogger, REDACTED } from './logger.js';

const SECRET = 'S3cr3t-value-never-logged-0123456789';

function capture(): { logger: ReturnType<typeof createLogger>; text: () => string } {
  const lines: string[] = [];
  const logger = createLogger({ service: 'test', level: 'trace', destination: { write: (s: string) => lines.push(s) } });
  return { logger, text: () => lines.join('') };
}

describe('logger redaction (security)', () => {
  it('censors secrets at the top level, one and two levels down, in headers and parsed environments', () => {
    const { logger, text } = capture();
    const shapes: Record<string, unknown>[] = [
      { token: SECRET },
      { password: SECRET },
      { apiSecret: SECRET, apiKey: SECRET },
      { authorization: `Bearer ${SECRET}` },
      { sasl: { mechanism: 'plain', username: 'u', password: SECRET } },
      { kafka: { brokers: ['b:9092'], sasl: { mechanism: 'plain', username: 'u', password: SECRET } } },
      { config: { kafka: { sasl: { password: SECRET } } } },
      { admin: { host: '127.0.0.1', token: SECRET } },
      { questdb: { httpUrl: 'http://q:9000', username: 'u', password: SECRET, token: SECRET } },
      { headers: { authorization: `Bearer ${SECRET}`, cookie: SECRET, 'x-mbx-apikey': SECRET } },
      { req: { headers: { authorization: `Bearer ${SECRET}`, 'x-api-key': SECRET } } },
      { env: { KAFKA_SASL_PASSWORD: SECRET, CONFIG_ADMIN_TOKEN: SECRET, QUESTDB_PASSWORD: SECRET, QUESTDB_TOKEN: SECRET } },
      { KAFKA_SASL_PASSWORD: SECRET, CONFIG_ADMIN_TOKEN: SECRET },
      { options: { env: { QUESTDB_TOKEN: SECRET } } },
      { credentials: { user: 'u', pass: SECRET } },
    ];
    for (const fields of shapes) {
      logger.info(fields, 'settings');
      logger.child({ component: 'x' }).warn(fields, 'child logger');
    }
    const out = text();
    assert.ok(!out.includes(SECRET), out.split('\n').find((l) => l.includes(SECRET)));
    assert.ok(out.includes(REDACTED));
    assert.ok(out.includes('"brokers":["b:9092"]'), 'other settings stay visible');
  });

  it('errors logged as { err } keep their message but settings attached to them are censored', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('SASL authentication failed'), { sasl: { password: SECRET }, config: { token: SECRET } });
    logger.error({ err }, 'connect failed');
    logger.error({ err: new Error('wrapped', { cause: Object.assign(new Error('inner'), { password: SECRET }) }) }, 'with cause');
    assert.ok(!text().includes(SECRET), text());
    assert.match(text(), /SASL authentication failed/);
  });

  it('the env parser names bad secret variables without their values', () => {
    const schema = z.object({
      KAFKA_SASL_PASSWORD: z.string().min(100),
      CONFIG_ADMIN_TOKEN: z.string().regex(/^x+$/),
      QUESTDB_TOKEN: z.enum(['a']),
      MY_API_KEY: z.coerce.number(),
      PORT: z.coerce.number().max(10),
    });
    let message = '';
    try {
      parseEnv(schema, { KAFKA_SASL_PASSWORD: SECRET, CONFIG_ADMIN_TOKEN: SECRET, QUESTDB_TOKEN: SECRET, MY_API_KEY: SECRET, PORT: '11' });
    } catch (e) {
      message = (e as Error).message;
    }
    assert.match(message, /Invalid environment \(5 variables\)/);
    assert.ok(!message.includes(SECRET), message);
    assert.match(message, /PORT="11"/);
  });
});
