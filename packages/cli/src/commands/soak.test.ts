import assert from 'node:assert/strict';
import { test } from 'node:test';
import { main } from '../main.js';

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(args, (s) => (out += `${s}\n`), (s) => (err += `${s}\n`));
  return { code, out, err };
}

test('cvd soak --help lists every option and the CI size', async () => {
  const r = await cli(['soak', '--help']);
  assert.equal(r.code, 0);
  for (const o of ['--duration', '--rate', '--symbols', '--rotation', '--disconnect-mean', '--horizon', '--warmup', '--rss-pct', '--rss-mb', '--seed', '--json', '--use-running']) assert.match(r.out, new RegExp(`^  ${o} `, 'm'));
  assert.match(r.out, /default 10m, the CI size/);
});

test('cvd soak: bad values are usage errors (exit 2) before any stack starts', async () => {
  const cases: [string[], RegExp][] = [
    [['--duration', '10'], /--duration: expected a duration like 90s, 10m or 2h, got "10"/],
    [['--rotation', 'soon'], /--rotation: expected a duration/],
    [['--rate=0'], /--rate expects a whole number/],
    [['--symbols', '2.5'], /--symbols expects a whole number/],
    [['--rss-pct', 'x'], /--rss-pct must be a number ≥ 0, got "x"/],
    [['--bogus'], /Unknown option '--bogus'/],
  ];
  for (const [args, re] of cases) {
    const r = await cli(['soak', ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re);
  }
});
