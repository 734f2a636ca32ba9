import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { TailProber, type ProbeClock, type ProbeReason, type TailProberConfig } from './tail-prober.js';

/** A fake clock: timers fire only when the test advances time. */
class FakeClock implements ProbeClock {
  t = 1_000_000;
  #timers = new Map<number, { at: number; fn: () => void }>();
  #next = 1;
  now = (): number => this.t;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.#next++;
    this.#timers.set(id, { at: this.t + ms, fn });
    return id;
  }
  clearTimeout(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  /** Advances to `t + ms`, firing due timers in time order. */
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      let first: [number, { at: number; fn: () => void }] | undefined;
      for (const entry of this.#timers) if (entry[1].at <= end && (first === undefined || entry[1].at < first[1].at)) first = entry;
      if (first === undefined) break;
      this.#timers.delete(first[0]);
      this.t = Math.max(this.t, first[1].at);
      first[1].fn();
    }
    this.t = end;
  }
}

const CONFIG: TailProberConfig = { settleMs: 100, silenceMs: 0, silenceMaxMs: 8_000, probesPerSecond: 100, weightShare: 0.5 };

function setup(config: Partial<TailProberConfig> = {}, weight?: () => { used: number; budget: number }) {
  const clock = new FakeClock();
  const probes: { key: string; reason: ProbeReason; at: number }[] = [];
  const prober = new TailProber({
    config: { ...CONFIG, ...config },
    clock,
    hooks: { probe: (key, reason) => void probes.push({ key, reason, at: clock.t - 1_000_000 }), ...(weight ? { weight } : {}) },
  });
  return { clock, prober, probes };
}

describe('TailProber', () => {
  test('after a reconnect a symbol still at its last id is probed once settleMs passed; one heard from is not', () => {
    const { clock, prober, probes } = setup();
    prober.track('spot:A', 'spot', 5);
    prober.track('spot:B', 'spot', 7);
    prober.track('spot:C', 'spot', undefined); // nothing known: no tail
    prober.resumed(['spot:A', 'spot:B', 'spot:C', 'spot:UNKNOWN']);
    clock.advance(50);
    prober.heard('spot:B', 8);
    clock.advance(49);
    assert.deepEqual(probes, []);
    clock.advance(1);
    assert.deepEqual(probes, [{ key: 'spot:A', reason: 'reconnect', at: 100 }]);
    prober.finished('spot:A', { kind: 'done', lastId: 5 });
    clock.advance(10_000);
    assert.equal(probes.length, 1, 'nothing more without silence probes');
  });

  test('a rotation probes like a reconnect; a second event while probed at the same id is not probed again', () => {
    const { clock, prober, probes } = setup();
    prober.track('usdm:A', 'usdm', 5);
    prober.rotated(['usdm:A']);
    clock.advance(100);
    assert.deepEqual(probes.map((p) => p.reason), ['rotation']);
    // Another connection of the symbol comes back while the probe runs: it waits for it.
    prober.resumed(['usdm:A']);
    clock.advance(200);
    assert.equal(probes.length, 1, 'one probe at a time per symbol');
    prober.finished('usdm:A', { kind: 'done', lastId: 5 });
    clock.advance(200);
    assert.equal(probes.length, 2, 'the event that came during the probe is honoured');
    prober.finished('usdm:A', { kind: 'done', lastId: 5 });
    prober.resumed(['usdm:A']);
    clock.advance(200);
    assert.equal(probes.length, 3, 'a later reconnect probes anew');
  });

  test('a retry is probed again after its delay, even though the last id is unchanged', () => {
    const { clock, prober, probes } = setup();
    prober.track('spot:A', 'spot', 1);
    prober.resumed(['spot:A']);
    clock.advance(100);
    prober.finished('spot:A', { kind: 'retry', delayMs: 500 });
    clock.advance(499);
    assert.equal(probes.length, 1);
    clock.advance(1);
    assert.deepEqual(probes.map((p) => [p.reason, p.at]), [
      ['reconnect', 100],
      ['reconnect', 600],
    ]);
  });

  test('silence: a quiet symbol is probed after silenceMs, then at doubling intervals up to silenceMaxMs; a new id restarts it', () => {
    const { clock, prober, probes } = setup({ silenceMs: 1_000, silenceMaxMs: 4_000 });
    prober.track('spot:A', 'spot', undefined);
    prober.heard('spot:A', 1); // first id at t=0
    const run = (): void => {
      // Each probe answers at once with nothing newer.
      const n = probes.length;
      clock.advance(1);
      if (probes.length > n) prober.finished('spot:A', { kind: 'done', lastId: 1 });
    };
    for (let i = 0; i < 16_000; i++) run();
    const at = probes.map((p) => p.at);
    assert.equal(probes.every((p) => p.reason === 'silence'), true);
    // ~1 s, then +2 s, +4 s, +4 s... (silence scans every 250 ms, so a probe may come up to 250 ms late).
    assert.equal(at.length, 5, JSON.stringify(at));
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    assert.ok(at[0]! >= 1_000 && at[0]! <= 1_250, JSON.stringify(at));
    assert.ok(gaps[0]! >= 2_000 && gaps[0]! <= 2_250 && gaps.slice(1).every((g) => g >= 4_000 && g <= 4_250), JSON.stringify(gaps));
    prober.heard('spot:A', 2); // 16 s after id 1: its rhythm is now one trade per 16 s, capped at 4 s
    const before = probes.length;
    clock.advance(3_900);
    assert.equal(probes.length, before, 'heard from: the silence count restarts');
    clock.advance(400);
    assert.equal(probes.length, before + 1);
  });

  test('silence is relative to the symbol: one trading every 2 s is not silent after 3 s', () => {
    const { clock, prober, probes } = setup({ silenceMs: 1_000, silenceMaxMs: 60_000 });
    prober.track('spot:SLOW', 'spot', undefined);
    for (let id = 1; id <= 30; id++) {
      prober.heard('spot:SLOW', id);
      for (let ms = 0; ms < 2_000; ms += 50) {
        clock.advance(50);
        if (probes.length > 0 && probes.at(-1)!.at === clock.t - 1_000_000) prober.finished('spot:SLOW', { kind: 'done', lastId: id });
      }
    }
    // Before its rhythm is known (one id seen) the symbol gets silenceMs; after that 8 × 2 s.
    assert.deepEqual(probes.map((p) => p.at), [1_000], 'a 2 s rhythm is no silence');
    clock.advance(13_900);
    assert.equal(probes.length, 1, 'not yet at 15.9 s');
    clock.advance(400); // 16 s without a trade: 8 × the mean gap
    assert.deepEqual(probes.map((p) => p.reason), ['silence', 'silence']);
  });

  test('spread and ordered: at most probesPerSecond start, busiest symbols first', () => {
    const { clock, prober, probes } = setup({ probesPerSecond: 2 });
    for (let i = 0; i < 10; i++) prober.track(`usdm:S${i}`, 'usdm', 1);
    // S7 is the busiest, then S3; the others never traded here.
    for (let id = 2; id < 40; id++) prober.heard('usdm:S7', id);
    for (let id = 2; id < 10; id++) prober.heard('usdm:S3', id);
    prober.resumed(Array.from({ length: 10 }, (_, i) => `usdm:S${i}`));
    clock.advance(100);
    assert.deepEqual(probes.map((p) => p.key), ['usdm:S7', 'usdm:S3'], 'a burst of one second worth, busiest first');
    for (const p of probes) prober.finished(p.key, { kind: 'done', lastId: 1 });
    clock.advance(999);
    assert.ok(probes.length <= 4, `${probes.length} probes after 1.1 s at 2/s`);
    clock.advance(5_000);
    assert.equal(probes.length, 10, 'everyone probed eventually');
    const starts = probes.map((p) => p.at);
    // A burst of probesPerSecond, then one every 1/probesPerSecond s.
    for (let i = 2; i < starts.length; i++) assert.ok(starts[i]! - starts[i - 1]! >= 499, `spread: ${JSON.stringify(starts)}`);
  });

  test('weight-budgeted: no probe starts while the market used its share of the REST budget', () => {
    let used = 1_300;
    const { clock, prober, probes } = setup({}, () => ({ used, budget: 2_400 }));
    prober.track('usdm:A', 'usdm', 1);
    prober.resumed(['usdm:A']);
    clock.advance(5_000);
    assert.deepEqual(probes, [], 'above half of the budget: hole backfills keep the rest');
    used = 100; // the weight window moved on
    clock.advance(300);
    assert.equal(probes.length, 1);
  });

  test('untracked symbols and a closed prober probe nothing', () => {
    const { clock, prober, probes } = setup({ silenceMs: 1_000 });
    prober.track('spot:A', 'spot', 3);
    prober.track('spot:B', 'spot', 3);
    prober.resumed(['spot:A', 'spot:B']);
    prober.untrack('spot:A');
    clock.advance(100);
    assert.deepEqual(probes.map((p) => p.key), ['spot:B']);
    prober.close();
    clock.advance(60_000);
    assert.equal(probes.length, 1);
  });
});
