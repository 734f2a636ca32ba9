import { Sender } from '@questdb/nodejs-client';
import type { BarRow } from '@cvd/engine';
import { QuestDbError } from './sql.js';
import { ilpConfigString, type QuestDbSettings } from './settings.js';
import { assertTableName, DEFAULT_BAR_TABLE } from './bar-table.js';

/**
 * Writes bar rows over ILP/HTTP. `write()` either stores every row (each chunk one HTTP
 * request and one transaction; the table's UPSERT KEYS make a retry harmless) or throws a
 * retriable `QuestDbError` — a failed request keeps nothing, so the caller re-sends the rows
 * (it has not committed their Kafka offsets).
 */
export class BarWriter {
  private sender: Sender | undefined;
  private readonly table: string;

  constructor(
    private readonly settings: QuestDbSettings,
    options: {
      /** @defaultValue 'cvd_bars_1m' */
      table?: string;
      /** Rows per HTTP request. @defaultValue 5000 */
      chunkRows?: number;
    } = {},
  ) {
    this.table = assertTableName(options.table ?? DEFAULT_BAR_TABLE);
    this.chunkRows = options.chunkRows ?? 5000;
  }

  private readonly chunkRows: number;

  private async getSender(): Promise<Sender> {
    this.sender ??= await Sender.fromConfig(ilpConfigString(this.settings));
    return this.sender;
  }

  /** Writes the rows; `updatedAtMs` is the one column that is the write time, not trade data. */
  async write(rows: readonly BarRow[], updatedAtMs: number): Promise<void> {
    for (let i = 0; i < rows.length; i += this.chunkRows) {
      try {
        const sender = await this.getSender();
        for (const r of rows.slice(i, i + this.chunkRows)) {
          await sender
            .table(this.table)
            .symbol('market', r.market)
            .symbol('symbol', r.symbol)
            .floatColumn('open', Number(r.open))
            .floatColumn('high', Number(r.high))
            .floatColumn('low', Number(r.low))
            .floatColumn('close', Number(r.close))
            .floatColumn('volume', Number(r.volume))
            .floatColumn('buy_volume', Number(r.buyVolume))
            .floatColumn('sell_volume', Number(r.sellVolume))
            .floatColumn('quote_volume', Number(r.quoteVolume))
            .floatColumn('buy_quote_volume', Number(r.buyQuoteVolume))
            .floatColumn('sell_quote_volume', Number(r.sellQuoteVolume))
            .floatColumn('delta', Number(r.delta))
            .floatColumn('quote_delta', Number(r.quoteDelta))
            .floatColumn('cvd_open', Number(r.cvdOpen))
            .floatColumn('cvd_high', Number(r.cvdHigh))
            .floatColumn('cvd_low', Number(r.cvdLow))
            .floatColumn('cvd_close', Number(r.cvdClose))
            .intColumn('trades', r.trades)
            .intColumn('agg_trades', r.aggTrades)
            .intColumn('first_agg_id', r.firstAggId)
            .intColumn('last_agg_id', r.lastAggId)
            .intColumn('missing_agg_ids', r.missingAggIds)
            .intColumn('recovered', r.recovered)
            .booleanColumn('final', r.final)
            .timestampColumn('updated_at', BigInt(updatedAtMs) * 1000n, 'us')
            .stringColumn('delta_exact', r.delta)
            .stringColumn('cvd_close_exact', r.cvdClose)
            .at(r.ts, 'ms');
        }
        await sender.flush();
      } catch (err) {
        // The failed request's rows are gone from the buffer or must be; start clean next time.
        await this.resetSender();
        throw new QuestDbError('write-failed', `writing ${rows.length} bar rows to QuestDB failed: ${(err as Error).message}`, { retriable: true, cause: err });
      }
    }
  }

  private async resetSender(): Promise<void> {
    const s = this.sender;
    this.sender = undefined;
    if (s) await s.close().catch(() => undefined);
  }

  /** Idempotent. */
  async close(): Promise<void> {
    await this.resetSender();
  }
}
