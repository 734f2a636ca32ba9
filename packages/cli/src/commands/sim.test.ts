/**
 * `cvd sim --fast --trades-per-symbol N` (issue 12, failure 5): the fast feed used to start at
 * once and publish every trade before any client connected. It now starts when the first
 * client subscribes (unless --start-now), so a client connecting after start-up gets all N.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { WebSocket } from 'ws';
import { simCommand, SIM_HELP } from './sim.js';

const N = 40;

test('cvd sim --fast --trades-per-symbol N: a client connecting after start-up gets all N trades per symbol', async () => {
  const lines: string[] = [];
  const abort = new AbortController();
  const exited = simCommand(['--fast', '--trades-per-symbol', String(N), '--symbols', '2', '--markets', 'spot'], (l) => lines.push(l), abort.signal);
  try {
    const env = async (name: string): Promise<string> => {
      for (let i = 0; i < 100; i++) {
        const line = lines.find((l) => l.includes(`export ${name}=`));
        if (line !== undefined) return line.split('=', 2)[1] as string;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`the simulator never printed ${name}:\n${lines.join('\n')}`);
    };
    const ws = await env('BINANCE_SPOT_WS_URL');
    const rest = await env('BINANCE_SPOT_REST_URL');
    const info = (await (await fetch(`${rest}/api/v3/exchangeInfo`)).json()) as { symbols: { symbol: string }[] };
    const symbols = info.symbols.map((s) => s.symbol);
    assert.equal(symbols.length, 2);
    // A client that is slow to connect: the old immediate start had published (to nobody) by now.
    await new Promise((r) => setTimeout(r, 500));
    const streams = symbols.map((s) => `${s.toLowerCase()}@aggTrade`).join('/');
    const got = new Map<string, number>();
    const url = new URL(`${ws}/stream`);
    url.searchParams.set('streams', streams);
    const client = new WebSocket(url);
    client.on('message', (data: Buffer) => {
      const frame = JSON.parse(data.toString()) as { data?: { e?: string; s?: string } };
      if (frame.data?.e === 'aggTrade' && frame.data.s) got.set(frame.data.s, (got.get(frame.data.s) ?? 0) + 1);
    });
    const deadline = Date.now() + 10_000;
    while (symbols.some((s) => (got.get(s) ?? 0) < N) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    client.terminate();
    assert.deepEqual(Object.fromEntries(symbols.map((s) => [s, got.get(s) ?? 0])), Object.fromEntries(symbols.map((s) => [s, N])));
  } finally {
    abort.abort();
    assert.equal(await exited, 0);
  }
});

test('cvd sim --help documents the start policy and --start-now', () => {
  assert.match(SIM_HELP, /--start-now/);
  assert.match(SIM_HELP, /first\s+client subscribes/);
});
