import assert from 'node:assert/strict';
import { test } from 'node:test';
import { sumMetrics } from './status.js';
import { rowToBar, shiftBars } from './rebuild.js';
import { importTargets } from './import.js';

test('sumMetrics adds samples across labels and ignores comments and other metrics', () => {
  const text = [
    '# HELP cvd_ingest_gaps_total holes',
    '# TYPE cvd_ingest_gaps_total counter',
    'cvd_ingest_gaps_total{market="spot",symbol="BTCUSDT"} 2',
    'cvd_ingest_gaps_total{market="usdm",symbol="ETH,USDT"} 3',
    'cvd_ingest_connections_open{market="spot"} 1',
    'cvd_ingest_connections_open 4',
    'cvd_ingest_gaps_total_other 100',
  ].join('\n');
  assert.deepEqual(sumMetrics(text, ['cvd_ingest_gaps_total', 'cvd_ingest_connections_open', 'absent']), { cvd_ingest_gaps_total: 5, cvd_ingest_connections_open: 5, absent: 0 });
});

test('rebuild: shiftBars keeps the chain exact (open = previous close) and moves high/low', () => {
  const base = rowToBar({ ts: '2024-05-01T12:00:00.000000Z', market: 'usdm', symbol: 'X', open: 1, high: 1, low: 1, close: 1, delta: 0.3, delta_exact: '0.3', cvd_open: 1.2, cvd_high: 1.6, cvd_low: 1.1, cvd_close: 1.5, cvd_close_exact: '1.5', final: true, trades: 2, missing_agg_ids: 0 });
  const next = { ...base, ts: base.ts + 60_000, cvdOpen: '1.5', cvdHigh: '1.5', cvdLow: '0.7', cvdClose: '0.70000001', delta: '-0.79999999' };
  const [a, b] = shiftBars([base, next], '-0.1', '1.1');
  assert.deepEqual([a?.cvdOpen, a?.cvdHigh, a?.cvdLow, a?.cvdClose], ['1.1', '1.5', '1', '1.4']);
  assert.deepEqual([b?.cvdOpen, b?.cvdHigh, b?.cvdLow, b?.cvdClose, b?.delta], ['1.4', '1.4', '0.6', '0.60000001', '-0.79999999']);
  assert.equal(a?.ts, Date.parse('2024-05-01T12:00:00Z'));
  assert.equal(a?.final, true);
});

test('import targets: market from the path, symbol from the name, options override, clear errors', () => {
  const [t] = importTargets(['/d/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-05-01.zip'], undefined, undefined);
  assert.deepEqual(t, { path: '/d/data/futures/um/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-2024-05-01.zip', market: 'usdm', symbol: 'BTCUSDT', zip: true });
  const [o] = importTargets(['/d/data/spot/x/ETHUSDT-aggTrades-2025-01.csv'], 'coinm', 'ETHUSD_PERP');
  assert.equal(o?.market, 'coinm');
  assert.equal(o?.symbol, 'ETHUSD_PERP');
  assert.equal(o?.zip, false);
  assert.throws(() => importTargets(['/tmp/x.csv'], 'futures', 'X'), /--market expects spot, usdm or coinm/);
  assert.throws(() => importTargets(['/tmp/x.csv'], undefined, 'X'), /cannot tell the market of \/tmp\/x\.csv/);
  assert.throws(() => importTargets(['/tmp/x.csv'], 'spot', undefined), /cannot tell the symbol/);
  assert.throws(() => importTargets(['/tmp/x.csv'], 'spot', "BAD'SYM"), /invalid symbol/);
});

test('status: too-old trades per symbol from the aggregator metrics, and one line naming the fix', async () => {
  const { tooOldFromMetrics, tooOldLine } = await import('./status.js');
  const text = [
    '# TYPE cvd_aggregator_too_old_trades_total counter',
    'cvd_aggregator_too_old_trades_total{market="usdm",symbol="BTCUSDT",reason="beyond-horizon",service="aggregator"} 8807',
    'cvd_aggregator_too_old_trades_total{market="usdm",symbol="BTCUSDT",reason="settled-id",service="aggregator"} 3',
    'cvd_aggregator_too_old_trades_total{market="spot",symbol="ETHUSDT",reason="beyond-horizon",service="aggregator"} 5',
    'cvd_aggregator_dead_letters_total{reason="beyond-horizon"} 8812',
  ].join('\n');
  const t = tooOldFromMetrics(text);
  assert.deepEqual(t, { 'usdm:BTCUSDT': { 'beyond-horizon': 8807, 'settled-id': 3 }, 'spot:ETHUSDT': { 'beyond-horizon': 5 } });
  assert.equal(tooOldLine(t), 'aggregator: 8815 trades refused as too old and dead-lettered (usdm:BTCUSDT 8810 beyond-horizon/settled-id, spot:ETHUSDT 5 beyond-horizon); replaying history into a used stack? run `cvd stack reset`');
  assert.equal(tooOldLine(tooOldFromMetrics('')), 'aggregator: no trades refused as too old');
});
