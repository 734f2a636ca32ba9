/**
 * What the admin API's requests do to the symbol set. HTTP concerns (auth, bodies, status
 * codes for bad input) are `admin-api.ts`'s; here: verify against exchangeInfo, record the
 * change, publish it through the reconciler and answer with what happened. A change Kafka
 * has not acknowledged within `publishTimeoutMs` is answered 202 (queued): it stays queued
 * and is published when Kafka comes back.
 */
import type { Logger } from '@cvd/common';
import { key } from '@cvd/schemas';
import type { AdminHandlers, AdminReply, MarketSymbolInput } from './admin-api.js';
import type { ExchangeInfo } from './exchange-info.js';
import { MAX_REPORTED_ISSUES, type SymbolFileSource } from './file-source.js';
import type { Reconciler } from './reconciler.js';
import { formatIssue } from './symbol-file.js';
import { withTimeout } from './timeout.js';

export interface ConfigAdminHandlersOptions {
  readonly reconciler: Reconciler;
  readonly exchange: ExchangeInfo;
  readonly file: SymbolFileSource;
  readonly logger: Logger;
  /** How long a request waits for Kafka before answering 202. */
  readonly publishTimeoutMs: number;
}

export class ConfigAdminHandlers implements AdminHandlers {
  constructor(private readonly options: ConfigAdminHandlersOptions) {}

  list(): unknown {
    const { reconciler, file } = this.options;
    const symbols = reconciler.view();
    return {
      count: symbols.filter((s) => s.enabled).length,
      symbols,
      file: { path: file.label, valid: file.errors.length === 0, errors: file.errors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue) },
    };
  }

  async add(items: readonly MarketSymbolInput[]): Promise<AdminReply> {
    const unknown = await this.options.exchange.unlisted(items);
    if (unknown !== undefined) return { status: 400, body: { error: 'unknown-symbol', message: unknown } };
    let outcome: { added: string[]; unchanged: string[] } = { added: [], unchanged: [] };
    const reply = await this.apply(() => {
      outcome = this.options.reconciler.addByApi(items.map((i) => key(i.market, i.symbol)));
      this.options.logger.info(outcome, 'admin API: add');
      return undefined;
    }, 'admin API add');
    return reply.status === 200 ? { status: 200, body: { ...(reply.body as object), ...outcome } } : reply;
  }

  async remove(item: MarketSymbolInput): Promise<AdminReply> {
    const k = key(item.market, item.symbol);
    let effect = '';
    const reply = await this.apply(() => {
      const result = this.options.reconciler.removeByApi(k);
      if (result === undefined) return { status: 404, body: { error: 'not-found', message: `${k} is not in the symbol set` } };
      effect = result;
      this.options.logger.info({ key: k, effect }, 'admin API: remove');
      return undefined;
    }, 'admin API remove');
    return reply.status === 200 ? { status: 200, body: { ...(reply.body as object), removed: k, effect } } : reply;
  }

  /** Runs `change` in the queue (an early reply skips the publish), then reconciles, bounded by the publish timeout. */
  private async apply(change: () => AdminReply | undefined, reason: string): Promise<AdminReply> {
    const { reconciler, publishTimeoutMs } = this.options;
    const work = reconciler.serial(async () => {
      const early = change();
      if (early !== undefined) return { reply: early, result: undefined };
      return { reply: undefined, result: await reconciler.reconcile(reason) };
    });
    const outcome = await withTimeout(work, publishTimeoutMs);
    if (outcome === 'timeout') {
      return {
        status: 202,
        body: { status: 'queued', message: 'accepted; Kafka has not acknowledged yet, the change will be published when it does' },
      };
    }
    if (outcome.reply !== undefined) return outcome.reply;
    return { status: 200, body: { status: 'ok', published: outcome.result?.records ?? 0, tombstones: outcome.result?.tombstones ?? 0 } };
  }
}
