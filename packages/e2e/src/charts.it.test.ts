/**
 * A newcomer's path, end to end: simulator → config → ingest → aggregator → QuestDB → the web
 * charts in headless Chromium. Takes the screenshot CI keeps (CVD_ARTIFACTS_DIR, default
 * <tmpdir>/cvd-artifacts) from simulated data. A missing Chromium fails the test.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { createLogger } from '@cvd/common';
import { ensureViews } from '@cvd/questdb';
import { getTestStack, type TestStackEndpoints } from '@cvd/test-kit';
import { startWeb, type RunningWeb } from '@cvd/web';
import { Pipeline } from './pipeline.js';
import { MINUTE } from './expected.js';

const CHROMIUM = process.env.CVD_CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = process.env.CVD_ARTIFACTS_DIR ?? join(tmpdir(), 'cvd-artifacts');
const START = Date.UTC(2024, 8, 2, 9, 0);

let stack: TestStackEndpoints;
let pipeline: Pipeline | undefined;
let web: RunningWeb | undefined;
let browser: Browser | undefined;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `Chromium not found at ${CHROMIUM}: apt-get install -y chromium (or set CVD_CHROMIUM_PATH). This test never skips.`);
  stack = await getTestStack();
});
after(async () => {
  await browser?.close();
  await web?.close();
  await pipeline?.stop();
});

test('charts of simulated CVD: both charts render and the readout equals the table', async (t) => {
  pipeline = await Pipeline.start({
    stack,
    sim: { pace: { mode: 'speed', factor: 60 }, sources: [{ kind: 'synthetic', seed: 99, startTime: START, counts: { spot: 2, usdm: 2 }, durationMs: 31 * MINUTE }] },
  });
  const { actual, expected } = await pipeline.settle({ beforeMs: START + 30 * MINUTE });
  assert.deepEqual(actual, expected);
  const table = pipeline.names.table;
  await ensureViews(pipeline.sql, table);
  web = await startWeb({ questdb: { httpUrl: stack.questdbHttp }, table, port: 0, logger: createLogger({ service: 'web-e2e', level: 'warn' }) });

  const usdm = pipeline.servedSymbols.find((s) => s.market === 'usdm')!;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(err.message));
  await page.goto(`${web.url}/?market=usdm&symbol=${encodeURIComponent(usdm.symbol)}&tf=1m`);
  await page.waitForFunction(() => Number(document.querySelector<HTMLElement>('#readout')?.dataset.bars ?? 0) > 0, undefined, { timeout: 20_000 });

  const last = (await pipeline.sql.rows(`SELECT cvd_close, cvd_close_exact FROM ${table} WHERE market = 'usdm' AND symbol = '${usdm.symbol}' LIMIT -1`))[0]!;
  await page.waitForFunction((v) => document.querySelector<HTMLElement>('#cvd-value')?.dataset.value === String(v), last.cvd_close, { timeout: 10_000 });
  assert.equal(await page.textContent('#cvd-value'), last.cvd_close_exact);
  await page.waitForTimeout(300);
  const drawn = await page.evaluate(() =>
    ['price-chart', 'cvd-chart'].map((id) =>
      [...document.querySelectorAll<HTMLCanvasElement>(`#${id} canvas`)].reduce((n, c) => {
        const d = c.width && c.height ? c.getContext('2d')?.getImageData(0, 0, c.width, c.height).data : undefined;
        let k = 0;
        if (d) for (let i = 3; i < d.length; i += 16) if (d[i]! > 0) k++;
        return n + k;
      }, 0),
    ),
  );
  assert.ok(drawn.every((n) => n > 1000), `both charts drew (${drawn.join(', ')} painted samples)`);
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = join(ARTIFACTS, `e2e-simulated-cvd-${new Date().toISOString().replace(/[:.]/g, '-')}.png`);
  await page.screenshot({ path: shot });
  t.diagnostic(`screenshot: ${shot}`);
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(problems, []);
});
