/**
 * Reading the deployment files of the repository: docker-compose.yml (with YAML merge keys
 * resolved, as Compose does), the Dockerfile's stages, and Compose-style `${VAR}` interpolation.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/** The repository root (this file runs from `packages/deploy-tests/dist/`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export function repoPath(relative: string): string {
  return fileURLToPath(new URL(relative, `file://${REPO_ROOT}`));
}

export function readRepoFile(relative: string): string {
  return readFileSync(repoPath(relative), 'utf8');
}

/** A service environment as written: `null` means "passed through from the host's environment". */
export type ComposeEnv = Record<string, string | null>;

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  entrypoint?: string[] | string;
  environment?: ComposeEnv | string[];
  ports?: string[];
  container_name?: string;
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }> | string[];
  restart?: string;
  volumes?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

export function loadCompose(relative = 'docker-compose.yml'): ComposeFile {
  return parse(readRepoFile(relative), { merge: true }) as ComposeFile;
}

/** The environment of a service as a mapping (list entries `K=V` / `K` are converted). */
export function serviceEnv(service: ComposeService): ComposeEnv {
  const env = service.environment ?? {};
  if (!Array.isArray(env)) {
    return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null || v === undefined ? null : String(v)]));
  }
  return Object.fromEntries(
    env.map((entry) => {
      const i = entry.indexOf('=');
      return i < 0 ? [entry, null] : [entry.slice(0, i), entry.slice(i + 1)];
    }),
  );
}

/**
 * Compose's variable interpolation: `$$`, `$NAME`, `${NAME}`, `${NAME:-default}`,
 * `${NAME-default}`, `${NAME:?error}`, `${NAME?error}`. A required variable that is missing
 * throws, like Compose.
 */
export function interpolate(value: string, vars: Readonly<Record<string, string | undefined>>): string {
  return value.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g, (match, braced, colon, op, arg, bare) => {
    if (match === '$$') return '$';
    const name = (braced ?? bare) as string;
    const v = vars[name];
    const missing = colon === ':' ? v === undefined || v === '' : v === undefined;
    if (op === '-') return missing ? (arg as string) : (v as string);
    if (op === '?') {
      if (missing) throw new Error(`required variable ${name} is missing: ${arg as string}`);
      return v as string;
    }
    return v ?? '';
  });
}

/** The environment a container would get: interpolated values; pass-through (`null`) entries taken from `host` or left out. */
export function containerEnv(service: ComposeService, host: Readonly<Record<string, string | undefined>> = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(serviceEnv(service))) {
    if (v === null) {
      const h = host[k];
      if (h !== undefined) out[k] = h;
    } else {
      out[k] = interpolate(v, host);
    }
  }
  return out;
}

/** The command as an argv list. */
export function argv(value: string[] | string | undefined): string[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : value.split(/\s+/).filter(Boolean);
}

export interface DockerfileStage {
  from: string;
  name: string | undefined;
  /** Instructions with line continuations joined: `[keyword, rest]`. */
  instructions: [string, string][];
}

/** Splits a Dockerfile into its stages (ARGs before the first FROM are in `globalArgs`). */
export function parseDockerfile(text: string): { globalArgs: Record<string, string>; stages: DockerfileStage[] } {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\s*\\\n\s*/g, ' ');
  const globalArgs: Record<string, string> = {};
  const stages: DockerfileStage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const keyword = (m[1] as string).toUpperCase();
    const rest = (m[2] as string).trim();
    if (keyword === 'FROM') {
      const f = /^(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?/i.exec(rest);
      stages.push({ from: f?.[1] ?? rest, name: f?.[2], instructions: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (stage) stage.instructions.push([keyword, rest]);
    else if (keyword === 'ARG') {
      const a = /^([A-Za-z_][A-Za-z0-9_]*)(?:=(.*))?$/.exec(rest);
      if (a) globalArgs[a[1] as string] = a[2] ?? '';
    }
  }
  return { globalArgs, stages };
}

/** The port a `node -e "fetch('http://127.0.0.1:PORT/...')"` healthcheck probes, if that is what it is. */
export function healthcheckPort(service: ComposeService): number | undefined {
  const test = argv(service.healthcheck?.test).join(' ');
  const m = /fetch\('http:\/\/127\.0\.0\.1:(\d+)\/health'\)/.exec(test);
  return m ? Number(m[1]) : undefined;
}
