import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { Market } from '@cvd/core';
import type { FrameTrade, ParsedFrame } from './core.js';
import { parseFrame } from './parse-frame.js';

const FIXTURES = new URL('../../fixtures/', import.meta.url);

function frames(market: Market): string[] {
  return readFileSync(new URL(`binance-${market}-aggtrade-frames.jsonl`, FIXTURES), 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

function trade(r: ParsedFrame): FrameTrade {
  assert.equal(r.kind, 'trade', JSON.stringify(r));
  return (r as { trade: FrameTrade }).trade;
}

const EXPECTED_COUNTS: Record<Market, number> = { spot: 2, usdm: 91, coinm: 51 };

describe('recorded frames', () => {
  for (const market of ['spot', 'usdm', 'coinm'] as const) {
    it(`${market}: every combined frame parses, as string, Buffer and parsed JSON`, () => {
      const lines = frames(market);
      assert.equal(lines.length, EXPECTED_COUNTS[market]);
      const lastId = new Map<string, number>();
      for (const line of lines) {
        const json = JSON.parse(line) as { stream: string; data: Record<string, unknown> };
        const r = parseFrame(market, line);
        const t = trade(r);
        assert.equal(r.kind === 'trade' ? r.stream : undefined, json.stream);
        assert.deepEqual(parseFrame(market, Buffer.from(line, 'utf8')), r);
        assert.deepEqual(parseFrame(market, json), r);
        // The exact decimal strings survive; nothing went through a float.
        assert.equal(t.market, market);
        assert.equal(t.symbol, json.data['s']);
        assert.equal(t.price, json.data['p']);
        assert.equal(t.qty, json.data['q']);
        assert.equal(t.aggId, json.data['a']);
        assert.equal(t.buyerMaker, json.data['m']);
        const prev = lastId.get(t.symbol);
        if (prev !== undefined) assert.ok(t.aggId > prev, `${t.symbol} ids ascend`);
        lastId.set(t.symbol, t.aggId);
      }
    });

    it(`${market}: the raw form (data only) parses to the same trade without a stream`, () => {
      for (const line of frames(market)) {
        const { data } = JSON.parse(line) as { data: unknown };
        const combined = parseFrame(market, line);
        const raw = parseFrame(market, JSON.stringify(data));
        assert.deepEqual(raw, { kind: 'trade', trade: trade(combined) });
      }
    });
  }

  it('spot: exact values of the first frame', () => {
    const [first] = frames('spot');
    assert.deepEqual(parseFrame('spot', first), {
      kind: 'trade',
      stream: 'nknusdt@aggTrade',
      trade: {
        market: 'spot',
        symbol: 'NKNUSDT',
        aggId: 15683430,
        price: '0.35280000',
        qty: '58.00000000',
        firstId: 19862790,
        lastId: 19862790,
        tradeTimeMs: 1633998523963,
        eventTimeMs: 1633998523963,
        buyerMaker: false,
      },
    });
  });

  it('usdm: exact values of the first and last frames', () => {
    const lines = frames('usdm');
    assert.deepEqual(trade(parseFrame('usdm', lines[0])), {
      market: 'usdm',
      symbol: 'CTKUSDT',
      aggId: 16599292,
      price: '1.01100',
      qty: '10',
      firstId: 23961322,
      lastId: 23961322,
      tradeTimeMs: 1626992741421,
      eventTimeMs: 1626992741575,
      buyerMaker: false,
    });
    const last = trade(parseFrame('usdm', lines[lines.length - 1]));
    assert.equal(last.aggId, 16599329);
    assert.equal(last.price, '1.01200');
  });

  it('coinm: exact values of a multi-fill frame (quantity in contracts)', () => {
    const t = trade(parseFrame('coinm', frames('coinm')[2]));
    assert.deepEqual(t, {
      market: 'coinm',
      symbol: 'ETHUSD_210924',
      aggId: 7297362,
      price: '1992.07',
      qty: '70',
      firstId: 11380896,
      lastId: 11380898,
      tradeTimeMs: 1626916405075,
      eventTimeMs: 1626916405111,
      buyerMaker: true,
    });
  });
});

const SPOT_EVENT = {
  e: 'aggTrade',
  E: 1633998523963,
  s: 'NKNUSDT',
  a: 15683430,
  p: '0.35280000',
  q: '58.00000000',
  f: 19862790,
  l: 19862790,
  T: 1633998523963,
  m: false,
  M: true,
};

describe('current fields and unusual but valid frames', () => {
  it('usdm tolerates nq and st (and anything else)', () => {
    const frame = {
      stream: 'btcusdt@aggTrade',
      data: { ...SPOT_EVENT, M: undefined, s: 'BTCUSDT', nq: '57.5', st: 1, x: { nested: [1] } },
    };
    const t = trade(parseFrame('usdm', JSON.stringify(frame)));
    assert.equal(t.qty, '58.00000000');
    assert.equal(t.symbol, 'BTCUSDT');
    assert.equal(Object.hasOwn(t, 'nq'), false);
  });

  it('coinm tolerates st', () => {
    const data = { ...SPOT_EVENT, s: 'BTCUSD_PERP', q: '3', st: 2 };
    assert.equal(trade(parseFrame('coinm', { stream: 'btcusd_perp@aggTrade', data })).qty, '3');
  });

  it('accepts a non-ASCII symbol, combined and raw, from a Buffer', () => {
    const data = { ...SPOT_EVENT, s: '币安人生USDT' };
    const combined = Buffer.from(JSON.stringify({ stream: '币安人生usdt@aggTrade', data }), 'utf8');
    const r = parseFrame('usdm', combined);
    assert.equal(trade(r).symbol, '币安人生USDT');
    assert.equal(trade(parseFrame('spot', JSON.stringify(data))).symbol, '币安人生USDT');
  });

  it('spot microseconds: floors T/E to ms and keeps tradeTimeUs', () => {
    const data = { ...SPOT_EVENT, T: 1633998523963987, E: 1633998523964001 };
    const t = trade(parseFrame('spot', { stream: 'nknusdt@aggTrade', data }, { timeUnit: 'MICROSECOND' }));
    assert.equal(t.tradeTimeMs, 1633998523963);
    assert.equal(t.eventTimeMs, 1633998523964);
    assert.equal(t.tradeTimeUs, 1633998523963987);
  });

  it('a time unit that does not match what the parser was told is rejected, not misread', () => {
    const us = { ...SPOT_EVENT, T: 1633998523963987, E: 1633998523964001 };
    const a = parseFrame('spot', us);
    assert.equal(a.kind === 'error' && a.code, 'invalid-time');
    assert.match(a.kind === 'error' ? a.reason : '', /microseconds/);
    const b = parseFrame('spot', SPOT_EVENT, { timeUnit: 'MICROSECOND' });
    assert.equal(b.kind === 'error' && b.code, 'invalid-time');
  });

  it('accepts a zero-width fraction-free decimal and leading zeros as plain decimals', () => {
    const t = trade(parseFrame('spot', { ...SPOT_EVENT, p: '42', q: '0.00000001' }));
    assert.equal(t.price, '42');
    assert.equal(t.qty, '0.00000001');
  });
});

describe('control frames', () => {
  it('SUBSCRIBE/UNSUBSCRIBE ack', () => {
    assert.deepEqual(parseFrame('spot', '{"result":null,"id":1}'), { kind: 'control', type: 'ack', id: 1 });
  });
  it('LIST_SUBSCRIPTIONS answer', () => {
    assert.deepEqual(parseFrame('usdm', '{"result":["btcusdt@aggTrade","ethusdt@aggTrade"],"id":3}'), {
      kind: 'control',
      type: 'subscriptions',
      id: 3,
      streams: ['btcusdt@aggTrade', 'ethusdt@aggTrade'],
    });
  });
  it('request error', () => {
    assert.deepEqual(parseFrame('coinm', '{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":7}'), {
      kind: 'control',
      type: 'requestError',
      id: 7,
      code: 2,
      msg: 'Invalid request: unknown variant',
    });
  });
  it('other results (GET_PROPERTY)', () => {
    assert.deepEqual(parseFrame('spot', '{"result":true,"id":"p"}'), { kind: 'control', type: 'result', id: 'p', result: true });
  });
  it('spot serverShutdown', () => {
    assert.deepEqual(parseFrame('spot', '{"e":"serverShutdown","E":1747302780000}'), {
      kind: 'control',
      type: 'serverShutdown',
      eventTimeMs: 1747302780000,
    });
  });
  it('serverShutdown is not a futures event', () => {
    const r = parseFrame('usdm', '{"e":"serverShutdown","E":1747302780000}');
    assert.equal(r.kind === 'error' && r.code, 'unsupported-event');
  });
});

describe('malformed frames are rejected with a code and a reason, never thrown', () => {
  const ev = (patch: Record<string, unknown>): string => JSON.stringify({ ...SPOT_EVENT, ...patch });
  const cases: ReadonlyArray<readonly [string, unknown, string, RegExp, string?]> = [
    ['oversized frame', ev({ pad: 'x'.repeat(70_000) }), 'too-large', /65536/],
    ['oversized Buffer', Buffer.alloc(70_000, 0x20), 'too-large', /65536/],
    ['non-UTF-8 binary', Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x81]), 'binary', /not UTF-8/],
    ['UTF-8 that is not JSON', Buffer.from('hello'), 'invalid-json', /not JSON/],
    ['truncated JSON', ev({}).slice(0, 40), 'invalid-json', /not JSON/],
    ['JSON array', '[1,2]', 'not-object', /array/],
    ['JSON null', 'null', 'not-object', /null/],
    ['number value', 42, 'not-object', /number/],
    ['unrelated object', '{"hello":1}', 'unknown-frame', /neither/],
    ['other event', ev({ e: 'trade' }), 'unsupported-event', /"trade"/, 'e'],
    ['combined without data object', '{"stream":"x@aggTrade","data":"nope"}', 'invalid-field', /data/, 'data'],
    ['combined stream of another symbol', JSON.stringify({ stream: 'btcusdt@aggTrade', data: SPOT_EVENT }), 'stream-mismatch', /NKNUSDT/, 'stream'],
    ['missing qty', ev({ q: undefined }), 'missing-field', /"q" is missing/, 'q'],
    ['missing symbol', ev({ s: undefined }), 'missing-field', /"s" is missing/, 's'],
    ['price as number', ev({ p: 0.3528 }), 'invalid-decimal', /decimal string, got number/, 'p'],
    ['empty qty', ev({ q: '' }), 'invalid-decimal', /empty string/, 'q'],
    ['negative qty', ev({ q: '-1.5' }), 'invalid-decimal', /negative/, 'q'],
    ['negative zero', ev({ q: '-0' }), 'invalid-decimal', /negative/, 'q'],
    ['exponent 1e309', ev({ p: '1e309' }), 'invalid-decimal', /exponent/, 'p'],
    ['NaN', ev({ p: 'NaN' }), 'invalid-decimal', /plain decimal/, 'p'],
    ['Infinity', ev({ q: 'Infinity' }), 'invalid-decimal', /plain decimal/, 'q'],
    ['spaces', ev({ q: ' 1.0' }), 'invalid-decimal', /plain decimal/, 'q'],
    ['trailing dot', ev({ q: '1.' }), 'invalid-decimal', /plain decimal/, 'q'],
    ['too long decimal', ev({ p: `1.${'0'.repeat(80)}` }), 'invalid-decimal', /above the 64 limit/, 'p'],
    ['aggId as string', ev({ a: '15683430' }), 'invalid-id', /got string/, 'a'],
    ['negative aggId', ev({ a: -1 }), 'invalid-id', /non-negative/, 'a'],
    ['fractional id', ev({ f: 1.5 }), 'invalid-id', /integer/, 'f'],
    ['unsafe id', '{"e":"aggTrade","E":1,"s":"X","a":9007199254740993,"p":"1","q":"1","f":1,"l":1,"T":1,"m":true}', 'invalid-id', /safe/, 'a'],
    ['f above l', ev({ f: 10, l: 9 }), 'invalid-id', /above last/, 'f'],
    ['time as string', ev({ T: '1633998523963' }), 'invalid-time', /got string/, 'T'],
    ['time 1e309 (Infinity)', ev({}).replace('"T":1633998523963', '"T":1e309'), 'invalid-time', /Infinity/, 'T'],
    ['m as string', ev({ m: 'false' }), 'invalid-field', /boolean/, 'm'],
    ['empty symbol', ev({ s: '' }), 'invalid-symbol', /1–64/, 's'],
    ['symbol with a colon', ev({ s: 'BTC:USDT' }), 'invalid-symbol', /BTC:USDT/, 's'],
    ['symbol with whitespace', ev({ s: 'BTC USDT' }), 'invalid-symbol', /whitespace/, 's'],
    ['response with an object id', '{"result":null,"id":{}}', 'invalid-field', /id/, 'id'],
  ];
  for (const [name, input, code, reason, field] of cases) {
    it(name, () => {
      const r = parseFrame('spot', input);
      assert.equal(r.kind, 'error', JSON.stringify(r));
      if (r.kind !== 'error') return;
      assert.equal(r.code, code);
      assert.match(r.reason, reason);
      if (field !== undefined) assert.equal(r.field, field);
    });
  }

  it('maxFrameBytes is configurable and counts UTF-8 bytes', () => {
    const frame = JSON.stringify({ ...SPOT_EVENT, s: '币安人生USDT' });
    const bytes = Buffer.byteLength(frame);
    assert.equal(parseFrame('spot', frame, { maxFrameBytes: bytes }).kind, 'trade');
    const r = parseFrame('spot', frame, { maxFrameBytes: bytes - 1 });
    assert.equal(r.kind === 'error' && r.code, 'too-large');
  });

  it('survives random garbage', () => {
    let seed = 42;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const base = JSON.stringify(SPOT_EVENT);
    for (let i = 0; i < 2000; i++) {
      const chars = [...base];
      for (let k = 0; k < 3; k++) chars[Math.floor(rnd() * chars.length)] = String.fromCharCode(Math.floor(rnd() * 128));
      const r = parseFrame('spot', chars.join(''));
      assert.ok(r.kind === 'trade' || r.kind === 'error' || r.kind === 'control');
      if (r.kind === 'trade') assert.match(r.trade.qty, /^\d+(\.\d+)?$/);
    }
  });

  it('unknown market is an error, not a throw', () => {
    const r = parseFrame('margin' as Market, JSON.stringify(SPOT_EVENT));
    assert.equal(r.kind === 'error' && r.code, 'invalid-field');
  });
});
