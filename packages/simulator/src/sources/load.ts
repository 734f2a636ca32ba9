import { readFile } from 'node:fs/promises';
import { SimulatorError } from '../errors.js';
import { isDecimalString } from '../decimal.js';
import { isMarket, type Market, type SimTrade } from '../types.js';
import { parseAggTradesCsv, unzipFirstEntry } from './csv-source.js';
import { parseAggTradeJsonl } from './jsonl-source.js';
import { arraySource, type TradeSource } from './source.js';
import { syntheticSource, type SyntheticSourceSpec } from './synthetic-source.js';

/** A data.binance.vision aggTrades CSV (or its .zip). One of `path`/`text`. */
export interface CsvSourceSpec {
  kind: 'csv';
  market: Market;
  /** Exchange symbol, e.g. `BTCUSDT`. */
  symbol: string;
  /** File path; a `.zip` is unpacked (first entry). */
  path?: string;
  text?: string;
  /** `E = T + eventLagMs`. @defaultValue 0 */
  eventLagMs?: number;
}

/** JSON lines of raw or combined aggTrade frames. One of `path`/`text`. */
export interface JsonlSourceSpec {
  kind: 'jsonl';
  market: Market;
  path?: string;
  text?: string;
  /** @defaultValue false */
  skipInvalid?: boolean;
}

/** Trades given inline (tests). `f`/`l` default to `a`, `E` to `T`, `M` to true. */
export interface TradesSourceSpec {
  kind: 'trades';
  trades: ReadonlyArray<
    Pick<SimTrade, 'market' | 'symbol' | 'a' | 'p' | 'q' | 'T' | 'm'> & Partial<Omit<SimTrade, 'market' | 'symbol' | 'a' | 'p' | 'q' | 'T' | 'm'>>
  >;
}

export type SourceSpec = CsvSourceSpec | JsonlSourceSpec | SyntheticSourceSpec | TradesSourceSpec;

async function textOf(spec: { path?: string; text?: string; kind: string }): Promise<string> {
  if (spec.text !== undefined) return spec.text;
  if (spec.path === undefined) throw new SimulatorError('bad-options', `${spec.kind} source needs 'path' or 'text'`);
  try {
    const buf = await readFile(spec.path);
    return (spec.path.toLowerCase().endsWith('.zip') ? unzipFirstEntry(buf) : buf).toString('utf8');
  } catch (err) {
    if (err instanceof SimulatorError) throw err;
    throw new SimulatorError('bad-source', `cannot read ${spec.path}`, { cause: err });
  }
}

export async function loadSource(spec: SourceSpec): Promise<TradeSource> {
  switch (spec.kind) {
    case 'csv': {
      if (!isMarket(spec.market)) throw new SimulatorError('bad-options', `csv source: bad market ${String(spec.market)}`);
      const name = spec.path ?? `csv:${spec.market}:${spec.symbol}`;
      const parsed = parseAggTradesCsv(await textOf(spec), {
        market: spec.market,
        symbol: spec.symbol,
        name,
        ...(spec.eventLagMs === undefined ? {} : { eventLagMs: spec.eventLagMs }),
      });
      return arraySource(name, parsed.trades);
    }
    case 'jsonl': {
      if (!isMarket(spec.market)) throw new SimulatorError('bad-options', `jsonl source: bad market ${String(spec.market)}`);
      const name = spec.path ?? `jsonl:${spec.market}`;
      const parsed = parseAggTradeJsonl(await textOf(spec), {
        market: spec.market,
        name,
        ...(spec.skipInvalid === undefined ? {} : { skipInvalid: spec.skipInvalid }),
      });
      return arraySource(name, parsed.trades);
    }
    case 'synthetic':
      return syntheticSource(spec);
    case 'trades': {
      const trades: SimTrade[] = spec.trades.map((t, i) => {
        if (!isMarket(t.market) || !isDecimalString(t.p) || !isDecimalString(t.q)) {
          throw new SimulatorError('bad-options', `trades source: trade #${i} is invalid`);
        }
        return { f: t.a, l: t.a, E: t.T, M: true, ...t, Tus: t.Tus ?? t.T * 1000 };
      });
      trades.sort((x, y) => x.Tus - y.Tus);
      return arraySource('trades', trades);
    }
    default: {
      const never: never = spec;
      throw new SimulatorError('bad-options', `unknown source kind ${String((never as { kind: unknown }).kind)}`);
    }
  }
}
