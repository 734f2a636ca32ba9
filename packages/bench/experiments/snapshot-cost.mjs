// Run: npx turbo run build --filter=@cvd/engine && node --max-old-space-size=12000 packages/bench/experiments/snapshot-cost.mjs
// Env: MINUTES (trades held, default 11 = the 10 min horizon), ROUNDS, OLD_ROUNDS (rounds that also time serializeState), PREPARE=0 (no serialising ahead).
// Snapshot cost, old (serializeState) vs new (StateSerializer pieces + concatPieces), at 5,000
// aggTrades/s over 1,000 symbols in 12 partitions, with MINUTES of trades held (11 = full 10 min horizon).
import { monitorEventLoopDelay } from 'node:perf_hooks';
const E = await import('@cvd/engine');
const { applyBatch, createState, serializeState, StateSerializer, concatPieces } = E;
const SYMBOLS = 1000, PARTS = 12, RATE = 5000, HORIZON = 10 * 60_000;
const T0 = 1_780_000_020_000 - (1_780_000_020_000 % 60_000);
const minutes = Number(process.env.MINUTES ?? 11);
const PREPARE = process.env.PREPARE !== '0';
const serializers = Array.from({ length: 12 }, () => new StateSerializer());
const states = Array.from({ length: PARTS }, () => createState({ horizonMs: HORIZON }));
const ids = new Array(SYMBOLS).fill(0).map((_, i) => i * 1e9);
let t = T0;
function step(ms) {
  const n = Math.round(RATE * ms / 1000);
  const batches = states.map(() => []);
  for (let i = 0; i < n; i++) {
    const s = Math.floor(Math.random() * SYMBOLS);
    const price = (100 + s + Math.floor(Math.random() * 1000) / 100).toFixed(2);
    const qty = (Math.floor(Math.random() * 100000) / 1000).toFixed(3);
    batches[s % PARTS].push({ market: 'usdm', symbol: `S${s}USDT`, aggId: ++ids[s], price, qty, firstId: ids[s], lastId: ids[s], tradeTimeMs: t + Math.floor(i * ms / n), buyerMaker: Math.random() < 0.5, recovered: false });
  }
  t += ms;
  // per partition in batches of ~100 ms of trades, each batch's rows serialised ahead (as the worker does)
  states.forEach((st, p) => {
    const b = batches[p]; const per = Math.max(1, Math.ceil(b.length / (ms / 100)));
    for (let i = 0; i < b.length; i += per) { const r = applyBatch(st, b.slice(i, i + per), b[Math.min(b.length, i + per) - 1].tradeTimeMs); if (PREPARE) serializers[p].prepare(st, r.upserts); }
    const r = applyBatch(st, [], t); if (PREPARE) serializers[p].prepare(st, r.upserts);
  });
}
for (let m = 0; m < minutes * 12; m++) step(5000);
const held = states.reduce((a, s) => a + [...s.symbols.values()].reduce((b, y) => b + y.bars.reduce((c, bar) => c + bar.entries.length, 0), 0), 0);
serializers.forEach((z, p) => z.pieces(states[p])); // the first capture after a restore is a full one
const scratch = Buffer.allocUnsafeSlow(16 * 1024 * 1024); // reused like the aggregator's (each partition's bytes are gzipped before the next)
const rounds = Number(process.env.ROUNDS ?? 4);
const old = { collect: [], part: [] }, neu = { collect: [], part: [] };
let bytes = 0;
const h = monitorEventLoopDelay({ resolution: 1 });
for (let r = 0; r < rounds; r++) {
  step(5000);
  // new: collect = capture every partition in one synchronous step; checkpoint = one partition's bytes
  let a = performance.now(); let cu = process.cpuUsage();
  const caps = states.map((s, p) => serializers[p].pieces(s));
  neu.collect.push(performance.now() - a); cu = process.cpuUsage(cu); (neu.cpu ??= []).push((cu.user + cu.system) / 1000);
  (neu.entries ??= []).push(serializers.reduce((x, z) => x + z.stats.entriesSerialized, 0));
  const bufs = caps.map((c) => { const x = performance.now(); const b = concatPieces(c, scratch); neu.part.push(performance.now() - x); return Buffer.from(b); });
  if (r >= Number(process.env.OLD_ROUNDS ?? rounds)) { await new Promise((r) => setImmediate(r)); continue; }
  // old: collect = serializeState of every partition; checkpoint = Buffer.from(string)
  a = performance.now(); cu = process.cpuUsage();
  const texts = states.map((s) => serializeState(s));
  old.collect.push(performance.now() - a); cu = process.cpuUsage(cu); (old.cpu ??= []).push((cu.user + cu.system) / 1000);
  texts.forEach((s, i) => { const x = performance.now(); const b = Buffer.from(s, 'utf8'); old.part.push(performance.now() - x); if (!b.equals(bufs[i])) throw new Error('bytes differ'); });
  bytes = bufs.reduce((x, b) => x + b.length, 0);
  await new Promise((r) => setImmediate(r));
}
const f = (xs) => !xs || xs.length === 0 ? 'not run' : `median ${[...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)].toFixed(1)} max ${Math.max(...xs).toFixed(1)}`;
console.log(`held trades ${held}, snapshot bytes (12 partitions) ${bytes}, rounds ${rounds}; bytes identical every round`);
console.log(`old: collect (serializeState x12, one sync block) wall ${f(old.collect)} ms, cpu ${f(old.cpu)} ms; per-partition Buffer.from ${f(old.part)} ms`);
console.log(`new: collect (capture x12, one sync block) wall ${f(neu.collect)} ms, cpu ${f(neu.cpu)} ms (trades serialised in the capture per round ${f(neu.entries)}); per-partition concatPieces (into a reused buffer) ${f(neu.part)} ms`);
