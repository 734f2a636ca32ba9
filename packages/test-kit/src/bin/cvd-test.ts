#!/usr/bin/env node
/**
 * cvd-test — the project's test runner. Finds compiled tests (`dist/**\/*.test.js`), starts ONE
 * real Kafka + QuestDB for the whole run when any integration test (`*.it.test.js`) is
 * selected, runs unit tests in parallel and integration tests one file at a time with Node's
 * built-in runner, always tears the servers down, and ends with `N passed, N failed`.
 *
 *   cvd-test --root .            every workspace package
 *   cvd-test --dir packages/x    one package (repeatable)
 *   cvd-test --unit              skip integration tests
 *   --only <substring>           only test files whose path contains it (repeatable)
 *   CVD_TEST_STACK=running       use the stack from `cvd stack up` instead of a throw-away one
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { findTestFiles, isIntegrationTest, workspacePackages } from '../discover.js';
import { endpointsFromEnv, endpointsToEnv, runningStackEndpoints, startThrowawayStack, TEST_ENV, type OwnedTestStack, type TestStackEndpoints } from '../stack.js';

interface Counts {
  pass: number;
  fail: number;
  skipped: number;
}

function countTap(file: string): Counts {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return { pass: 0, fail: 0, skipped: 0 };
  }
  const num = (key: string): number => {
    const m = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(text);
    return m ? Number(m[1]) : 0;
  };
  return { pass: num('pass'), fail: num('fail') + num('cancelled'), skipped: num('skipped') + num('todo') };
}

function runNodeTest(files: string[], concurrency: number, env: NodeJS.ProcessEnv, tapFile: string): Promise<number> {
  const args = [
    '--test',
    `--test-concurrency=${concurrency}`,
    '--test-timeout=900000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...files,
  ];
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'inherit', 'inherit'], env });
    child.on('close', (code) => resolve(code ?? 1));
  });
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      root: { type: 'string' },
      dir: { type: 'string', multiple: true },
      unit: { type: 'boolean', default: false },
      only: { type: 'string', multiple: true },
      concurrency: { type: 'string', default: '2' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log('usage: cvd-test [--root DIR | --dir PKG ...] [--unit] [--only SUBSTRING ...] [--concurrency N]');
    return 0;
  }
  const dirs = values.root ? workspacePackages(values.root) : (values.dir ?? ['.']);
  let files = findTestFiles(dirs);
  if (values.only?.length) files = files.filter((f) => values.only!.some((s) => f.includes(s)));
  const unitFiles = files.filter((f) => !isIntegrationTest(f));
  const itFiles = values.unit ? [] : files.filter(isIntegrationTest);
  const base = values.root ?? process.cwd();
  console.log(`cvd-test: ${unitFiles.length} unit test file(s), ${itFiles.length} integration test file(s)`);
  if (unitFiles.length + itFiles.length === 0) {
    console.log('cvd-test: no test files found (did you build? `npm run build`)');
    console.log('0 passed, 0 failed');
    return 1;
  }

  const work = mkdtempSync(join(tmpdir(), 'cvd-test-run-'));
  let owned: OwnedTestStack | undefined;
  let stopping = false;
  const teardown = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    if (owned) {
      console.log('cvd-test: stopping Kafka and QuestDB…');
      await owned.stop();
    }
    rmSync(work, { recursive: true, force: true });
  };
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      void teardown().finally(() => process.exit(130));
    });
  }

  const totals: Counts = { pass: 0, fail: 0, skipped: 0 };
  const add = (c: Counts): void => {
    totals.pass += c.pass;
    totals.fail += c.fail;
    totals.skipped += c.skipped;
  };
  let exit = 0;
  try {
    if (unitFiles.length) {
      console.log(`\ncvd-test: unit tests (${unitFiles.map((f) => relative(base, f)).length} files)`);
      const tap = join(work, 'unit.tap');
      const code = await runNodeTest(unitFiles, Number(values.concurrency), process.env, tap);
      add(countTap(tap));
      if (code !== 0) exit = 1;
    }
    if (itFiles.length) {
      let endpoints: TestStackEndpoints | undefined = endpointsFromEnv();
      if (!endpoints && process.env[TEST_ENV.mode] === 'running') endpoints = runningStackEndpoints();
      if (!endpoints) {
        console.log('\ncvd-test: starting a throw-away Kafka and QuestDB for the integration tests…');
        const t0 = Date.now();
        owned = await startThrowawayStack({ progress: (l) => console.log(`  ${l}`) });
        endpoints = owned;
        console.log(`cvd-test: stack ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (Kafka ${owned.brokers}, QuestDB ${owned.questdbHttp})`);
      }
      console.log(`\ncvd-test: integration tests (${itFiles.length} files, one at a time, real Kafka and QuestDB)`);
      const tap = join(work, 'it.tap');
      const code = await runNodeTest(itFiles, 1, { ...process.env, ...endpointsToEnv(endpoints) }, tap);
      add(countTap(tap));
      if (code !== 0) exit = 1;
    }
  } catch (err) {
    console.error(`cvd-test: ${err instanceof Error ? err.message : String(err)}`);
    exit = 1;
    totals.fail += 1;
  } finally {
    await teardown();
  }
  if (totals.fail > 0) exit = 1;
  console.log(`\n${totals.pass} passed, ${totals.fail} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`);
  return exit;
}

process.exitCode = await main();
