/**
 * The Dockerfile: pinned multi-stage build, non-root runtime with `node` as entrypoint, and
 * every compose `command:` names a service entry point that the build produces.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { argv, loadCompose, parseDockerfile, readRepoFile, repoPath } from './repo.js';

const dockerfile = parseDockerfile(readRepoFile('Dockerfile'));
const compose = loadCompose();

/** `${NAME}` in a FROM resolved with the global ARG defaults. */
const resolveFrom = (from: string): string => from.replace(/\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?/g, (_m, n: string) => dockerfile.globalArgs[n] ?? '');

describe('Dockerfile', () => {
  test('has a build stage and a runtime stage on a pinned node bookworm-slim image', () => {
    assert.ok(dockerfile.stages.length >= 2, 'multi-stage: build, then runtime');
    for (const stage of dockerfile.stages) {
      const image = resolveFrom(stage.from);
      if (dockerfile.stages.some((s) => s.name === image)) continue; // FROM an earlier stage
      assert.match(image, /^node:\d+\.\d+(\.\d+)?-bookworm-slim$/, `stage ${stage.name ?? '?'}: base image must be pinned to node:<major>.<minor>-bookworm-slim, got ${image}`);
    }
  });

  test('the build stage installs with npm ci and builds with turbo', () => {
    const build = dockerfile.stages[0];
    assert.ok(build);
    const runs = build.instructions.filter(([k]) => k === 'RUN').map(([, r]) => r);
    assert.ok(runs.some((r) => /\bnpm ci\b(?!.*--omit=dev)/.test(r)), 'RUN npm ci (with dev dependencies, to build)');
    assert.ok(runs.some((r) => /\bnpx turbo run build\b/.test(r)), 'RUN npx turbo run build');
    assert.ok(runs.some((r) => /\bnpm ci\b.*--omit=dev/.test(r)), 'production node_modules (npm ci --omit=dev)');
  });

  test('the runtime stage runs as a non-root user with node as entrypoint', () => {
    const runtime = dockerfile.stages.at(-1);
    assert.ok(runtime);
    const users = runtime.instructions.filter(([k]) => k === 'USER').map(([, u]) => u);
    assert.ok(users.length > 0, 'the runtime stage must set USER');
    const last = (users.at(-1) as string).split(':')[0];
    assert.notEqual(last, 'root');
    assert.notEqual(last, '0');
    assert.equal(last, 'node');
    const entry = runtime.instructions.filter(([k]) => k === 'ENTRYPOINT').at(-1)?.[1];
    assert.deepEqual(JSON.parse(entry ?? 'null'), ['node']);
    // Nothing but copies from earlier stages: no compilers, sources or dev dependencies.
    const copies = runtime.instructions.filter(([k]) => k === 'COPY').map(([, c]) => c);
    assert.ok(copies.length > 0 && copies.every((c) => /--from=/.test(c)), `runtime copies only from the build stage: ${copies.join(' | ')}`);
  });

  test('.dockerignore keeps node_modules, dist, caches, stack data and .git out of the context', () => {
    const lines = readRepoFile('.dockerignore').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const want of ['**/node_modules', '**/dist', '.cache', '.stack', '.git']) assert.ok(lines.includes(want), `.dockerignore lacks ${want}`);
  });
});

describe('compose commands', () => {
  const commands = Object.entries(compose.services).filter(([, s]) => s.image === 'cvd-pipeline:local');

  test('every service on the project image has a command', () => {
    assert.deepEqual(commands.map(([n]) => n).sort(), ['aggregator', 'config', 'ingest', 'web']);
  });

  for (const [name, service] of commands) {
    test(`${name}: command is services/${name}/dist/main.js and it exists after the build`, () => {
      const args = argv(service.command);
      assert.deepEqual(args, [`services/${name}/dist/main.js`]);
      const script = args[0] as string;
      assert.ok(existsSync(repoPath(script.replace(/\/dist\/main\.js$/, '/src/main.ts'))), `${script}: no src/main.ts`);
      assert.ok(existsSync(repoPath(script)), `${script} does not exist: build the workspace (npx turbo run build) — or the command is wrong`);
    });
  }
});
