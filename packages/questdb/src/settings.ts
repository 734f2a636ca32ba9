import { z } from 'zod';
import { envDuration } from '@cvd/common';

/** How to reach QuestDB. */
export interface QuestDbSettings {
  /** REST and ILP-over-HTTP base URL. @defaultValue 'http://127.0.0.1:9000' */
  httpUrl: string;
  /** HTTP basic auth (QuestDB Enterprise or `http.user`/`http.password` in server.conf). Never logged. */
  username?: string;
  password?: string;
  /** Bearer token for ILP (Enterprise). Never logged. */
  token?: string;
  /** Per-request timeout. @defaultValue 10000 */
  requestTimeoutMs?: number;
}

/**
 * QuestDB variables the aggregator (and CLI) read: `QUESTDB_HTTP_URL` (http://127.0.0.1:9000),
 * `QUESTDB_USERNAME`, `QUESTDB_PASSWORD`, `QUESTDB_TOKEN`, `QUESTDB_REQUEST_TIMEOUT` (10s).
 */
export const questdbEnvShape = {
  QUESTDB_HTTP_URL: z.url({ protocol: /^https?$/, error: 'expected an http(s) URL like http://127.0.0.1:9000' }).default('http://127.0.0.1:9000'),
  QUESTDB_USERNAME: z.string().optional(),
  QUESTDB_PASSWORD: z.string().optional(),
  QUESTDB_TOKEN: z.string().optional(),
  QUESTDB_REQUEST_TIMEOUT: envDuration().default(10_000),
};

const obj = z.object(questdbEnvShape);
export type QuestDbEnv = z.output<typeof obj>;

export function questdbSettingsFromEnv(env: QuestDbEnv): QuestDbSettings {
  return {
    httpUrl: env.QUESTDB_HTTP_URL.replace(/\/+$/, ''),
    ...(env.QUESTDB_USERNAME ? { username: env.QUESTDB_USERNAME } : {}),
    ...(env.QUESTDB_PASSWORD ? { password: env.QUESTDB_PASSWORD } : {}),
    ...(env.QUESTDB_TOKEN ? { token: env.QUESTDB_TOKEN } : {}),
    requestTimeoutMs: env.QUESTDB_REQUEST_TIMEOUT,
  };
}

/** The ILP-over-HTTP connection string for `Sender.fromConfig` (one request per `flush()`). */
export function ilpConfigString(s: QuestDbSettings): string {
  const url = new URL(s.httpUrl);
  const scheme = url.protocol === 'https:' ? 'https' : 'http';
  const port = url.port || (scheme === 'https' ? '443' : '80');
  const parts = [`${scheme}::addr=${url.hostname}:${port}`, 'auto_flush=off', `request_timeout=${s.requestTimeoutMs ?? 10_000}`];
  // In the connection string `;` separates keys; a literal `;` in a value is written `;;`.
  const v = (x: string): string => x.replace(/;/g, ';;');
  if (s.username) parts.push(`username=${v(s.username)}`);
  if (s.password) parts.push(`password=${v(s.password)}`);
  if (s.token) parts.push(`token=${v(s.token)}`);
  return `${parts.join(';')};`;
}
