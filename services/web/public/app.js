// The chart page: price candles over CVD candles for one (market, symbol) and timeframe,
// time-synced. History comes from /api/bars (on load, on a symbol or timeframe change, after
// the live stream reconnects and on its `resync`); live bars are pushed over server-sent
// events from /api/stream (1m bars, folded here into the selected bucket exactly as the
// server's views aggregate them). There is no periodic polling.
// Plain ES module; `LightweightCharts` is the standalone build served at /vendor/.
import { foldBucket, toApiBar } from './fold.js';

const LC = window.LightweightCharts;
const TF_SECONDS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14400, '1d': 86400 };
/** Reopening a stream the server refused (503, 400) or that closed for good: capped backoff. */
const STREAM_RETRY_MS = { initial: 1000, max: 30_000 };
const COLORS = { up: '#26a69a', down: '#ef5350', upForming: '#26a69a80', downForming: '#ef535080' };

const $ = (id) => document.getElementById(id);
const ui = {
  symbol: $('symbol'),
  tfs: [...document.querySelectorAll('#tf button')],
  readout: $('readout'),
  cvd: $('cvd-value'),
  close: $('close-value'),
  lastTime: $('last-time'),
  state: $('bar-state'),
  live: $('live'),
  message: $('message'),
  priceLegend: document.querySelector('#price-legend span'),
  cvdLegend: document.querySelector('#cvd-legend span'),
};

const state = {
  market: '',
  symbol: '',
  tf: '1m',
  /** time (epoch s) → API bar, of the shown series */
  bars: new Map(),
  lastTime: 0,
  /** Bumped on every history load: answers for an older selection are dropped. */
  generation: 0,
  /** 1m bars (time → bar) of the buckets the page can fold pushes into (tf > 1m). */
  minutes: new Map(),
  /** Buckets at or after this time (epoch s) have all their 1m bars in `minutes`. */
  coveredFrom: Infinity,
  /** Older buckets whose 1m bars were fetched on demand (a late revision). */
  coveredBuckets: new Set(),
  /** Pushes that arrived while history was loading, applied after it. */
  buffered: undefined,
  /** The live stream: one EventSource per (market, symbol). */
  source: undefined,
  sourceKey: '',
  sourceOpened: false,
  retryMs: STREAM_RETRY_MS.initial,
  retryTimer: undefined,
};

// ---- charts -------------------------------------------------------------------------------

function makeChart(el, { showTime }) {
  return LC.createChart(el, {
    autoSize: true,
    layout: { background: { type: LC.ColorType.Solid, color: '#0d1117' }, textColor: '#c9d1d9', fontSize: 12, attributionLogo: false },
    grid: { vertLines: { color: '#1b212a' }, horzLines: { color: '#1b212a' } },
    crosshair: { mode: LC.CrosshairMode.Normal },
    rightPriceScale: { borderColor: '#242b35', minimumWidth: 96 },
    timeScale: { borderColor: '#242b35', timeVisible: true, secondsVisible: false, visible: showTime, rightOffset: 4 },
    localization: { timeFormatter: (t) => formatTime(t) },
  });
}

function candleOptions() {
  return {
    upColor: COLORS.up, downColor: COLORS.down, borderVisible: false,
    wickUpColor: COLORS.up, wickDownColor: COLORS.down,
    priceFormat: { type: 'price', precision: 2, minMove: 0.01 },
  };
}

const priceChart = makeChart($('price-chart'), { showTime: false });
const cvdChart = makeChart($('cvd-chart'), { showTime: true });
const priceSeries = priceChart.addSeries(LC.CandlestickSeries, candleOptions());
const cvdSeries = cvdChart.addSeries(LC.CandlestickSeries, candleOptions());

/** Enough decimals for the range shown: cheap coins and small CVDs need more than 2. */
function priceFormat(values) {
  const span = Math.max(...values.map(Math.abs), 0);
  const precision = span === 0 || span >= 100 ? 2 : span >= 1 ? 4 : 6;
  return { type: 'price', precision, minMove: 10 ** -precision };
}

// Keep both charts on the same time range and crosshair.
let syncing = false;
function syncRange(from, to) {
  from.timeScale().subscribeVisibleLogicalRangeChange((range) => {
    if (syncing || !range) return;
    syncing = true;
    to.timeScale().setVisibleLogicalRange(range);
    syncing = false;
  });
}
syncRange(priceChart, cvdChart);
syncRange(cvdChart, priceChart);

function syncCrosshair(from, to, toSeries, toField) {
  from.subscribeCrosshairMove((param) => {
    const bar = param.time === undefined ? undefined : state.bars.get(param.time);
    showLegend(bar);
    if (syncing) return;
    syncing = true;
    if (bar) to.setCrosshairPosition(bar[toField], param.time, toSeries);
    else to.clearCrosshairPosition();
    syncing = false;
  });
}
syncCrosshair(priceChart, cvdChart, cvdSeries, 'cvd_close');
syncCrosshair(cvdChart, priceChart, priceSeries, 'close');

function priceBar(b) {
  const up = b.close >= b.open;
  const color = b.final ? (up ? COLORS.up : COLORS.down) : up ? COLORS.upForming : COLORS.downForming;
  return { time: b.time, open: b.open, high: b.high, low: b.low, close: b.close, color, wickColor: color };
}

function cvdBar(b) {
  const up = b.cvd_close >= b.cvd_open;
  const color = b.final ? (up ? COLORS.up : COLORS.down) : up ? COLORS.upForming : COLORS.downForming;
  return { time: b.time, open: b.cvd_open, high: b.cvd_high, low: b.cvd_low, close: b.cvd_close, color, wickColor: color };
}

/** Few bars: spread them over the width; many: the newest ~200 with room on the right. */
function showRecent(n) {
  if (n === 0) return;
  if (n <= 200) priceChart.timeScale().fitContent();
  else priceChart.timeScale().setVisibleLogicalRange({ from: n - 200, to: n + 3 });
}

// ---- formatting ---------------------------------------------------------------------------

const num = new Intl.NumberFormat('en-US', { maximumFractionDigits: 8 });
const fmt = (x) => (x === null || x === undefined ? '—' : num.format(x));

function formatTime(t) {
  const iso = new Date(t * 1000).toISOString();
  return state.tf === '1d' ? iso.slice(0, 10) : `${iso.slice(0, 10)} ${iso.slice(11, 16)}`;
}

function showLegend(bar) {
  const b = bar ?? state.bars.get(state.lastTime);
  if (!b) {
    ui.priceLegend.textContent = '';
    ui.cvdLegend.textContent = '';
    return;
  }
  ui.priceLegend.textContent = `${formatTime(b.time)} UTC  O ${fmt(b.open)}  H ${fmt(b.high)}  L ${fmt(b.low)}  C ${fmt(b.close)}  Vol ${fmt(b.volume)}`;
  ui.cvdLegend.textContent = `O ${fmt(b.cvd_open)}  H ${fmt(b.cvd_high)}  L ${fmt(b.cvd_low)}  C ${fmt(b.cvd_close)}  Δ ${fmt(b.delta)}`;
}

function showReadout() {
  const b = state.bars.get(state.lastTime);
  ui.readout.dataset.bars = String(state.bars.size);
  if (!b) {
    for (const el of [ui.cvd, ui.close, ui.lastTime]) el.textContent = '—';
    delete ui.cvd.dataset.value;
    ui.state.textContent = '—';
    ui.state.className = 'badge';
    return;
  }
  // The exact decimal string when the table has it; data-value is the DOUBLE column.
  ui.cvd.textContent = b.cvd_close_exact ?? fmt(b.cvd_close);
  ui.cvd.dataset.value = String(b.cvd_close);
  ui.cvd.className = `v ${b.cvd_close >= 0 ? 'pos' : 'neg'}`;
  ui.close.textContent = fmt(b.close);
  ui.lastTime.textContent = `${formatTime(b.time)} UTC`;
  ui.lastTime.dataset.ts = b.ts;
  ui.state.textContent = b.final ? 'final' : 'forming';
  ui.state.className = `badge ${b.final ? 'final' : 'forming'}`;
  showLegend();
}

function showMessage(text) {
  ui.message.hidden = !text;
  ui.message.textContent = text ?? '';
}

// ---- data ---------------------------------------------------------------------------------

async function getJson(url) {
  const res = await fetch(url, { cache: 'no-store' });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error ?? `HTTP ${res.status}`);
  return body;
}

function barsUrl(extra) {
  const p = new URLSearchParams({ market: state.market, symbol: state.symbol, tf: state.tf, ...extra });
  return `/api/bars?${p}`;
}

async function load() {
  const gen = ++state.generation;
  state.bars = new Map();
  state.lastTime = 0;
  state.minutes = new Map();
  state.coveredFrom = Infinity;
  state.coveredBuckets = new Set();
  state.buffered = [];
  priceSeries.setData([]);
  cvdSeries.setData([]);
  showReadout();
  if (!state.symbol) return;
  try {
    const { bars } = await getJson(barsUrl({ limit: '1000' }));
    if (gen !== state.generation) return;
    const tfs = TF_SECONDS[state.tf];
    let minutes = [];
    if (tfs > 60) {
      // The 1m bars of the newest bucket: a push into it is folded with them, as the view does.
      const from = bars.length ? bars.at(-1).time : Math.floor(Date.now() / 1000 / tfs) * tfs;
      minutes = (await getJson(barsUrl({ tf: '1m', since: String(from * 1000), limit: '5000' }))).bars;
      if (gen !== state.generation) return;
      state.coveredFrom = from;
    }
    for (const m of minutes) state.minutes.set(m.time, m);
    for (const b of bars) state.bars.set(b.time, b);
    state.lastTime = bars.at(-1)?.time ?? 0;
    priceSeries.applyOptions({ priceFormat: priceFormat(bars.flatMap((b) => [b.high, b.low])) });
    cvdSeries.applyOptions({ priceFormat: priceFormat(bars.flatMap((b) => [b.cvd_high, b.cvd_low])) });
    priceSeries.setData(bars.map(priceBar));
    cvdSeries.setData(bars.map(cvdBar));
    showRecent(bars.length);
    showMessage(bars.length ? '' : 'No bars for this symbol yet.');
    const early = state.buffered;
    state.buffered = undefined;
    for (const p of early) applyPush(p);
    showReadout();
  } catch (err) {
    if (gen === state.generation) {
      state.buffered = undefined;
      showMessage(`Could not load bars: ${err.message}`);
    }
  }
}

// ---- live push ----------------------------------------------------------------------------

/** Opens (or keeps) the stream of the selected symbol. */
function openStream() {
  const key = `${state.market}:${state.symbol}`;
  if (state.source && state.sourceKey === key) return;
  closeStream();
  if (!state.symbol) return;
  state.sourceKey = key;
  state.sourceOpened = false;
  const src = new EventSource(`/api/stream?${new URLSearchParams({ market: state.market, symbol: state.symbol })}`);
  state.source = src;
  src.addEventListener('open', () => {
    if (src !== state.source) return;
    state.retryMs = STREAM_RETRY_MS.initial;
    setLive(true);
    // A reconnect: bars may have been missed while the stream was down.
    if (state.sourceOpened) void load();
    state.sourceOpened = true;
  });
  src.addEventListener('error', () => {
    if (src !== state.source) return;
    setLive(false);
    // EventSource reconnects by itself unless the server refused it (not 200 / not an event stream).
    if (src.readyState === EventSource.CLOSED) {
      state.source = undefined;
      state.sourceKey = '';
      clearTimeout(state.retryTimer);
      state.retryTimer = setTimeout(() => {
        openStream();
        void load();
      }, state.retryMs);
      state.retryMs = Math.min(STREAM_RETRY_MS.max, state.retryMs * 2);
    }
  });
  src.addEventListener('resync', () => {
    if (src === state.source) void load();
  });
  src.addEventListener('bar', (e) => {
    if (src !== state.source) return;
    const b = JSON.parse(e.data);
    if (b.market !== state.market || b.symbol !== state.symbol) return;
    if (state.buffered) state.buffered.push(b);
    else {
      applyPush(b);
      showReadout();
    }
  });
}

function closeStream() {
  clearTimeout(state.retryTimer);
  state.source?.close();
  state.source = undefined;
  state.sourceKey = '';
}

/** A pushed 1m bar: shown as is (1m) or folded into its bucket. */
function applyPush(m) {
  const tfs = TF_SECONDS[state.tf];
  if (tfs === 60) return showBar(toApiBar(m));
  const bucket = Math.floor(m.time / tfs) * tfs;
  state.minutes.set(m.time, toApiBar(m));
  if (bucket >= state.coveredFrom || state.coveredBuckets.has(bucket)) return showBar(foldBucket(state.minutes, bucket, tfs, Date.now()));
  void reviseOldBucket(bucket, tfs, state.generation);
}

/** A push into a bucket older than the loaded minutes (a late revision): fetch its 1m bars once. */
async function reviseOldBucket(bucket, tfs, gen) {
  try {
    const { bars } = await getJson(barsUrl({ tf: '1m', since: String(bucket * 1000), limit: String(tfs / 60) }));
    if (gen !== state.generation) return;
    for (const b of bars) if (b.time < bucket + tfs && !state.minutes.has(b.time)) state.minutes.set(b.time, b);
    state.coveredBuckets.add(bucket);
    showBar(foldBucket(state.minutes, bucket, tfs, Date.now()));
    showReadout();
  } catch {
    /* the next resync or reload repairs it */
  }
}

/** Draws a new or revised bar of the shown series. */
function showBar(b) {
  if (!b) return;
  const old = state.bars.get(b.time);
  if (old && sameBar(old, b)) return;
  state.bars.set(b.time, b);
  const historical = b.time < state.lastTime;
  if (historical && !old) {
    // A bar between existing ones (a minute that had no trades got a late one): redraw.
    const all = [...state.bars.values()].sort((x, y) => x.time - y.time);
    priceSeries.setData(all.map(priceBar));
    cvdSeries.setData(all.map(cvdBar));
  } else {
    priceSeries.update(priceBar(b), historical);
    cvdSeries.update(cvdBar(b), historical);
  }
  if (b.time > state.lastTime) state.lastTime = b.time;
  showMessage('');
}

function sameBar(a, b) {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.final === b.final &&
    a.cvd_open === b.cvd_open && a.cvd_high === b.cvd_high && a.cvd_low === b.cvd_low && a.cvd_close === b.cvd_close &&
    a.volume === b.volume && a.cvd_close_exact === b.cvd_close_exact;
}

function setLive(ok) {
  ui.live.classList.toggle('stale', !ok);
  ui.live.textContent = ok ? '● live' : '● offline';
  ui.live.dataset.state = ok ? 'live' : 'offline';
}

// ---- selection ----------------------------------------------------------------------------

function writeUrl() {
  const p = new URLSearchParams({ market: state.market, symbol: state.symbol, tf: state.tf });
  history.replaceState(null, '', `?${p}`);
}

function selectTf(tf) {
  state.tf = tf;
  for (const b of ui.tfs) b.setAttribute('aria-pressed', String(b.dataset.tf === tf));
}

async function init() {
  setLive(false);
  const url = new URLSearchParams(location.search);
  selectTf(TF_SECONDS[url.get('tf')] ? url.get('tf') : '1m');
  let symbols = [];
  try {
    symbols = await getJson('/api/symbols');
  } catch (err) {
    showMessage(`Could not list symbols: ${err.message}`);
  }
  for (const s of symbols) {
    const opt = document.createElement('option');
    opt.value = `${s.market}:${s.symbol}`; // ':' never occurs in a symbol
    opt.textContent = `${s.symbol} · ${s.market}`;
    ui.symbol.append(opt);
  }
  const wanted = `${url.get('market')}:${url.get('symbol')}`;
  if (symbols.some((s) => `${s.market}:${s.symbol}` === wanted)) ui.symbol.value = wanted;
  if (!symbols.length) showMessage('No symbols in the bar table yet.');
  ui.symbol.addEventListener('change', () => {
    pickSymbol();
    openStream();
    void load();
  });
  for (const b of ui.tfs) {
    b.addEventListener('click', () => {
      selectTf(b.dataset.tf);
      writeUrl();
      void load();
    });
  }
  pickSymbol();
  openStream();
  await load();
}

function pickSymbol() {
  const [market = '', ...rest] = ui.symbol.value.split(':');
  state.market = market;
  state.symbol = rest.join(':');
  writeUrl();
}

void init();
