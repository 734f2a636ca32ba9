import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BarHub, matchesFilter, parseStreamQuery, SSE_PING, SSE_RESYNC, sseBar, type SseSink, type StreamBar } from './bar-hub.js';
import { streamBarOf } from './bar-stream.js';
import { WebError } from './errors.js';

const T0 = Date.UTC(2024, 4, 1, 12, 0);

function bar(market: StreamBar['market'], symbol: string, minute: number, cvd: number, final = false): StreamBar {
  const ts = T0 + minute * 60_000;
  return {
    market, symbol, ts: new Date(ts).toISOString(), time: ts / 1000,
    open: 1, high: 2, low: 0.5, close: 1.5, volume: 3, buy_volume: 2, sell_volume: 1, delta: 1,
    cvd_open: 0, cvd_high: cvd, cvd_low: 0, cvd_close: cvd, cvd_close_exact: String(cvd), trades: 4, final, last_agg_id: 100 + cvd,
  };
}

/** A sink that records writes; `full` makes write() report a full buffer. */
class FakeSink implements SseSink {
  chunks: string[] = [];
  opened = 0;
  closed: string | undefined;
  full = false;
  open(): void {
    this.opened++;
  }
  write(chunk: string): boolean {
    this.chunks.push(chunk);
    return !this.full;
  }
  close(reason: 'shutdown' | 'slow'): void {
    this.closed = reason;
  }
  /** The `event: bar` payloads written so far, in order. */
  bars(): StreamBar[] {
    return this.chunks.join('').split('\n\n').filter((e) => e.startsWith('event: bar\n')).map((e) => JSON.parse(e.slice('event: bar\ndata: '.length)) as StreamBar);
  }
  text(): string {
    return this.chunks.join('');
  }
}

function manualHub(opts: { maxClients?: number; maxPending?: number } = {}) {
  const queue: (() => void)[] = [];
  const counts = { clients: 0, pushed: 0, slow: 0, full: 0, resyncs: 0 };
  const hub = new BarHub({
    ...opts,
    schedule: (fn) => queue.push(fn),
    metrics: {
      clients: (n) => (counts.clients = n),
      pushed: (n) => (counts.pushed += n),
      dropped: (r) => counts[r]++,
      resyncs: () => counts.resyncs++,
    },
  });
  const run = (): void => {
    while (queue.length) queue.shift()!();
  };
  return { hub, run, counts, queued: () => queue.length };
}

test('a client gets the preamble at once, then each published bar as `event: bar` with the /api/bars row shape', () => {
  const { hub, run, counts } = manualHub();
  const s = new FakeSink();
  const c = hub.add({}, s);
  assert.notEqual(typeof c, 'string');
  assert.equal(s.opened, 1);
  assert.equal(s.text(), 'retry: 2000\n: connected\n\n');
  const b = bar('usdm', 'BTCUSDT', 0, 5);
  hub.publish([b]);
  assert.equal(s.chunks.length, 1, 'nothing written before the scheduled flush');
  run();
  assert.equal(s.chunks[1], sseBar(b));
  assert.deepEqual(s.bars(), [b]);
  assert.equal(counts.pushed, 1);
  assert.equal(counts.clients, 1);
});

test('coalescing: one flush carries the newest version of each (symbol, minute), older minutes first', () => {
  const { hub, run, counts } = manualHub();
  const s = new FakeSink();
  hub.add({}, s);
  hub.publish([bar('usdm', 'BTCUSDT', 0, 1), bar('usdm', 'BTCUSDT', 1, 2), bar('spot', 'BTCUSDT', 0, 3)]);
  hub.publish([bar('usdm', 'BTCUSDT', 0, 10, true), bar('usdm', 'BTCUSDT', 1, 20)]);
  run();
  assert.deepEqual(s.bars().map((b) => [b.market, b.time, b.cvd_close, b.final]), [
    ['spot', T0 / 1000, 3, false],
    ['usdm', T0 / 1000, 10, true],
    ['usdm', T0 / 1000 + 60, 20, false],
  ]);
  assert.equal(counts.pushed, 3, 'three events, not five');
});

test('a slow client: nothing is written while its buffer is full; on drain it gets the latest value of each bar, not a queue', () => {
  const { hub, run } = manualHub();
  const slow = new FakeSink();
  const fast = new FakeSink();
  const cs = hub.add({}, slow);
  hub.add({}, fast);
  assert.ok(typeof cs !== 'string');
  slow.full = true;
  hub.publish([bar('usdm', 'BTCUSDT', 0, 1)]);
  run();
  assert.equal(slow.bars().length, 1, 'the write that filled the buffer');
  for (let v = 2; v <= 50; v++) {
    hub.publish([bar('usdm', 'BTCUSDT', 0, v), bar('usdm', 'ETHUSDT', 0, v)]);
    run();
  }
  assert.equal(slow.bars().length, 1, 'blocked: no writes');
  assert.equal(hub.pendingOf(cs), 2);
  assert.equal(fast.bars().length, 1 + 49 * 2, 'a client that keeps up gets every flush');
  slow.full = false;
  hub.drained(cs);
  assert.deepEqual(slow.bars().slice(1).map((b) => [b.symbol, b.cvd_close]), [['BTCUSDT', 50], ['ETHUSDT', 50]]);
  assert.equal(hub.pendingOf(cs), 0);
});

test('bounded: more than maxPending distinct bars waiting drops that client only; beyond maxClients new clients are refused', () => {
  const { hub, run, counts } = manualHub({ maxPending: 3, maxClients: 2 });
  const slow = new FakeSink();
  const ok = new FakeSink();
  hub.add({}, slow);
  hub.add({}, ok);
  assert.equal(hub.add({}, new FakeSink()), 'full');
  assert.equal(counts.full, 1);
  slow.full = true;
  hub.publish([bar('usdm', 'A', 0, 1)]);
  run(); // slow is blocked now
  hub.publish([bar('usdm', 'A', 1, 1), bar('usdm', 'A', 2, 1), bar('usdm', 'A', 3, 1)]);
  run();
  assert.equal(slow.closed, undefined, 'three waiting: still within the bound');
  hub.publish([bar('usdm', 'A', 3, 2)]);
  run();
  assert.equal(slow.closed, undefined, 'a new version of a waiting bar does not count twice');
  hub.publish([bar('usdm', 'A', 4, 1)]);
  assert.equal(slow.closed, 'slow');
  assert.equal(counts.slow, 1);
  assert.equal(hub.size, 1);
  assert.equal(counts.clients, 1);
  run();
  assert.equal(ok.closed, undefined);
  assert.equal(ok.bars().length, 6, 'the other client got every flush');
  // A client that keeps up is never dropped, however large one batch is.
  hub.publish(Array.from({ length: 10 }, (_, i) => bar('usdm', 'B', i, 1)));
  assert.equal(ok.closed, undefined);
  run();
  assert.equal(ok.bars().length, 16);
  assert.notEqual(typeof hub.add({}, new FakeSink()), 'string', 'a place is free again');
});

test('filters: market, market:SYMBOL keys, everything', () => {
  const { hub, run } = manualHub();
  const all = new FakeSink();
  const usdm = new FakeSink();
  const one = new FakeSink();
  hub.add({}, all);
  hub.add(parseStreamQuery(new URLSearchParams('market=usdm')), usdm);
  hub.add(parseStreamQuery(new URLSearchParams('symbols=spot:ETHUSDT,coinm:BTCUSD_PERP')), one);
  hub.publish([bar('usdm', 'BTCUSDT', 0, 1), bar('spot', 'ETHUSDT', 0, 2), bar('coinm', 'BTCUSD_PERP', 0, 3), bar('spot', 'BTCUSDT', 0, 4)]);
  run();
  assert.deepEqual(all.bars().map((b) => b.cvd_close), [1, 2, 3, 4]);
  assert.deepEqual(usdm.bars().map((b) => b.cvd_close), [1]);
  assert.deepEqual(one.bars().map((b) => b.cvd_close), [2, 3]);
});

test('resync: every client gets `event: resync` before newer bars; what was waiting is discarded', () => {
  const { hub, run, counts } = manualHub();
  const s = new FakeSink();
  hub.add({}, s);
  hub.publish([bar('usdm', 'A', 0, 1)]);
  hub.resync();
  hub.publish([bar('usdm', 'A', 1, 2)]);
  run();
  assert.equal(s.text(), `retry: 2000\n: connected\n\n${SSE_RESYNC}${sseBar(bar('usdm', 'A', 1, 2))}`);
  assert.equal(counts.resyncs, 1);
});

test('ping writes a comment to clients that are not blocked; close ends every client and refuses new ones', () => {
  const { hub } = manualHub();
  const a = new FakeSink();
  const b = new FakeSink();
  hub.add({}, a);
  hub.add({}, b);
  b.full = true;
  hub.ping(); // b becomes blocked by this ping
  hub.ping();
  assert.equal(a.chunks.filter((c) => c === SSE_PING).length, 2);
  assert.equal(b.chunks.filter((c) => c === SSE_PING).length, 1);
  hub.close();
  assert.equal(a.closed, 'shutdown');
  assert.equal(b.closed, 'shutdown');
  assert.equal(hub.size, 0);
  assert.equal(hub.add({}, new FakeSink()), 'closed');
  hub.publish([bar('usdm', 'A', 0, 1)]);
  assert.equal(a.bars().length, 0);
});

test('a removed client gets nothing more; flushes are scheduled once per burst', () => {
  const { hub, run, queued } = manualHub();
  const s = new FakeSink();
  const c = hub.add({}, s);
  assert.ok(typeof c !== 'string');
  hub.publish([bar('usdm', 'A', 0, 1)]);
  hub.publish([bar('usdm', 'A', 0, 2)]);
  assert.equal(queued(), 1);
  hub.remove(c);
  hub.remove(c);
  run();
  assert.equal(s.bars().length, 0);
  assert.equal(hub.size, 0);
});

test('parseStreamQuery: the /api/bars rules for market and symbol; lists; refusals name the parameter', () => {
  assert.deepEqual(parseStreamQuery(new URLSearchParams('')), {});
  assert.deepEqual(parseStreamQuery(new URLSearchParams('market=spot')), { market: 'spot' });
  assert.deepEqual([...parseStreamQuery(new URLSearchParams('market=usdm&symbol=BTCUSDT')).keys!], ['usdm:BTCUSDT']);
  assert.deepEqual([...parseStreamQuery(new URLSearchParams(`symbols=${encodeURIComponent('usdm:币安人生USDT,spot:ETHUSDT,')}`)).keys!], ['usdm:币安人生USDT', 'spot:ETHUSDT']);
  const refused: [string, RegExp][] = [
    ['symbol=BTCUSDT', /^market: required/],
    ['market=nyse', /^market: expected one of/],
    ['market=usdm&symbol=x%27%20OR%201%3D1', /^symbol:/],
    ['symbols=BTCUSDT', /^symbols: "BTCUSDT" is not market:SYMBOL/],
    ['symbols=usdm:a%20b', /^symbols:/],
    ['symbols=,', /^symbols: expected/],
    ['symbols=usdm:A&market=usdm', /^symbols: give either/],
    ['market=usdm&market=spot', /^market: given 2 times/],
    ['tf=5m', /^unknown parameter "tf"/],
    [`symbols=${Array.from({ length: 1001 }, (_, i) => `usdm:S${i}`).join(',')}`, /^symbols: at most 1000/],
  ];
  for (const [q, re] of refused) {
    assert.throws(() => parseStreamQuery(new URLSearchParams(q)), (err: Error) => err instanceof WebError && re.test(err.message), q);
  }
  assert.equal(matchesFilter({ market: 'usdm', keys: new Set(['usdm:A']) }, { market: 'usdm', symbol: 'B' }), false);
});

test('streamBarOf: a Bar v1 record in the /api/bars row shape (doubles from the exact decimals, exact cvd_close kept)', () => {
  const b = streamBarOf({
    market: 'usdm', symbol: 'BTCUSDT', ts: T0, open: '62000.1', high: '62010', low: '61990.5', close: '62001.25',
    volume: '12.5', buyVolume: '7.25', sellVolume: '5.25', quoteVolume: '775000', buyQuoteVolume: '450000', sellQuoteVolume: '325000',
    delta: '2', quoteDelta: '125000', cvdOpen: '-10.5', cvdHigh: '-8', cvdLow: '-11', cvdClose: '-8.50000000000000001',
    trades: 40, aggTrades: 20, firstAggId: 1000, lastAggId: 1019, missingAggIds: 0, recovered: 0, final: false, receivedAtMs: 1, emittedAtMs: 2,
  });
  assert.deepEqual(b, {
    market: 'usdm', symbol: 'BTCUSDT', ts: '2024-05-01T12:00:00.000Z', time: T0 / 1000,
    open: 62000.1, high: 62010, low: 61990.5, close: 62001.25, volume: 12.5, buy_volume: 7.25, sell_volume: 5.25, delta: 2,
    cvd_open: -10.5, cvd_high: -8, cvd_low: -11, cvd_close: -8.5, cvd_close_exact: '-8.50000000000000001', trades: 40, final: false, last_agg_id: 1019,
  });
});
