// The chart page: price candles over CVD candles for one (market, symbol) and timeframe,
// time-synced, with the forming bar polled from /api/bars every second.
// Plain ES module; `LightweightCharts` is the standalone build served at /vendor/.
const LC = window.LightweightCharts;
const POLL_MS = 1000;
const TF_SECONDS = { '1m': 60, '5m': 300, '15m': 900, '1h': 3600, '4h': 14400, '1d': 86400 };
/** How far back each poll re-reads, so late revisions of recent bars show up too. */
const REVISION_WINDOW_S = 10 * 60;
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
  /** Bumped on every selection change: answers for an older selection are dropped. */
  generation: 0,
  timer: undefined,
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
  clearTimeout(state.timer);
  state.bars = new Map();
  state.lastTime = 0;
  priceSeries.setData([]);
  cvdSeries.setData([]);
  showReadout();
  if (!state.symbol) return;
  try {
    const { bars } = await getJson(barsUrl({ limit: '1000' }));
    if (gen !== state.generation) return;
    for (const b of bars) state.bars.set(b.time, b);
    state.lastTime = bars.at(-1)?.time ?? 0;
    priceSeries.applyOptions({ priceFormat: priceFormat(bars.flatMap((b) => [b.high, b.low])) });
    cvdSeries.applyOptions({ priceFormat: priceFormat(bars.flatMap((b) => [b.cvd_high, b.cvd_low])) });
    priceSeries.setData(bars.map(priceBar));
    cvdSeries.setData(bars.map(cvdBar));
    showRecent(bars.length);
    showMessage(bars.length ? '' : 'No bars for this symbol yet.');
    showReadout();
    setLive(true);
  } catch (err) {
    if (gen === state.generation) showMessage(`Could not load bars: ${err.message}`);
    setLive(false);
  }
  if (gen === state.generation) state.timer = setTimeout(() => poll(gen), POLL_MS);
}

async function poll(gen) {
  try {
    const back = Math.max(2 * TF_SECONDS[state.tf], REVISION_WINDOW_S);
    const since = state.lastTime ? String((state.lastTime - back) * 1000) : undefined;
    const { bars } = await getJson(barsUrl(since ? { since, limit: '5000' } : { limit: '1000' }));
    if (gen !== state.generation) return;
    for (const b of bars) {
      const old = state.bars.get(b.time);
      if (old && sameBar(old, b)) continue;
      state.bars.set(b.time, b);
      const historical = b.time < state.lastTime;
      priceSeries.update(priceBar(b), historical);
      cvdSeries.update(cvdBar(b), historical);
      if (b.time > state.lastTime) state.lastTime = b.time;
    }
    if (bars.length) showMessage('');
    showReadout();
    setLive(true);
  } catch {
    setLive(false);
  }
  if (gen === state.generation) state.timer = setTimeout(() => poll(gen), POLL_MS);
}

function sameBar(a, b) {
  return a.open === b.open && a.high === b.high && a.low === b.low && a.close === b.close && a.final === b.final &&
    a.cvd_open === b.cvd_open && a.cvd_high === b.cvd_high && a.cvd_low === b.cvd_low && a.cvd_close === b.cvd_close &&
    a.volume === b.volume;
}

function setLive(ok) {
  ui.live.classList.toggle('stale', !ok);
  ui.live.textContent = ok ? '● live' : '● offline';
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
  await load();
}

function pickSymbol() {
  const [market = '', ...rest] = ui.symbol.value.split(':');
  state.market = market;
  state.symbol = rest.join(':');
  writeUrl();
}

void init();
