import { Sender } from '@questdb/nodejs-client';
import type { BarRow } from '@cvd/engine';
import { QuestDbError } from './sql.js';
import { ilpConfigString, type QuestDbSettings } from './settings.js';
import { writeBarRow } from './bar-columns.js';
import { assertTableName, DEFAULT_BAR_TABLE } from './bar-table.js';

/**
 * Writes bar rows over ILP/HTTP, one row per bar with the columns of `BAR_COLUMN_SPECS`.
 * `write()` either stores every row (each chunk one HTTP request and one transaction; the
 * table's UPSERT KEYS make a retry harmless) or throws a retriable `QuestDbError` — a failed
 * request keeps nothing, so the caller re-sends the rows (it has not committed their Kafka
 * offsets).
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
          await writeBarRow(sender, this.table, r, updatedAtMs);
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
