/**
 * The symbol file as a source: the last valid content, and what the last load found. An
 * invalid file never replaces a valid one (the previous set stays in effect), and an
 * unchanged file (same hash) is not re-processed, so directory noise costs one small read.
 */
import type { Logger } from '@cvd/common';
import { MARKETS } from '@cvd/core';
import type { ConfigMetrics } from './metrics.js';
import { formatIssue, loadSymbolFile, type FileIssue, type SymbolFile } from './symbol-file.js';

/** At most this many errors/warnings are logged or reported per load. */
export const MAX_REPORTED_ISSUES = 20;

export interface FileSourceOptions {
  /** Absolute path that is read. */
  readonly path: string;
  /** The path as configured, used in messages. */
  readonly label: string;
  readonly maxBytes: number;
  readonly logger: Logger;
  readonly metrics: ConfigMetrics;
}

export class SymbolFileSource {
  private last: SymbolFile | undefined;
  private hash: string | undefined;
  private lastErrors: readonly FileIssue[] = [];
  private lastWarnings: readonly FileIssue[] = [];
  /** Loads (valid or not) since start, unchanged re-reads excluded. */
  loads = 0;
  invalidLoads = 0;

  constructor(private readonly options: FileSourceOptions) {}

  /** The last valid file; undefined until one was read (the topic's file records are kept meanwhile). */
  get file(): SymbolFile | undefined {
    return this.last;
  }

  /** Errors of the last load; empty when it was valid. */
  get errors(): readonly FileIssue[] {
    return this.lastErrors;
  }

  get warnings(): readonly FileIssue[] {
    return this.lastWarnings;
  }

  get label(): string {
    return this.options.label;
  }

  /**
   * Reads the file. Resolves `true` when a new valid content was taken (the caller then
   * re-resolves selectors), `false` when it was unchanged or invalid. `force` re-processes
   * an unchanged file (start-up).
   */
  async load(reason: string, force = false): Promise<boolean> {
    const { logger, metrics, label } = this.options;
    const r = await loadSymbolFile(this.options.path, { maxBytes: this.options.maxBytes, file: label });
    if (!force && r.hash !== undefined && r.hash === this.hash) {
      metrics.fileLoads.inc({ result: 'unchanged' });
      return false;
    }
    this.hash = r.hash;
    this.loads++;
    this.lastWarnings = r.warnings;
    for (const w of r.warnings.slice(0, MAX_REPORTED_ISSUES)) logger.warn({ warning: formatIssue(w) }, 'symbol file warning');
    if (!r.ok) {
      this.invalidLoads++;
      this.lastErrors = r.errors;
      metrics.fileLoads.inc({ result: 'invalid' });
      metrics.invalidFileLoads.inc();
      metrics.fileValid.set(0);
      logger.error(
        { reason, file: label, errors: r.errors.slice(0, MAX_REPORTED_ISSUES).map(formatIssue), errorCount: r.errors.length },
        this.last === undefined
          ? 'symbol file is invalid; the symbols on the topic stay as they are'
          : 'symbol file is invalid; the previous symbol set stays in effect',
      );
      return false;
    }
    this.lastErrors = [];
    this.last = r.value;
    metrics.fileLoads.inc({ result: 'valid' });
    metrics.fileValid.set(1);
    const total = MARKETS.reduce((n, m) => n + r.value.symbols[m].length, 0);
    logger.info({ reason, file: label, symbols: total, selectors: r.value.selectors.length }, 'loaded the symbol file');
    return true;
  }
}
