import { aggTradeEvent } from '../market-profiles.js';
import { aggTradeStreamName, type SimTrade } from '../types.js';

/**
 * The wire text of one trade in the up to four shapes a connection may want (raw/combined ×
 * ms/µs), each built once per published trade however many connections receive it.
 */
export class TradeFrames {
  private readonly cache: (string | undefined)[] = [undefined, undefined, undefined, undefined];
  readonly stream: string;

  constructor(
    readonly trade: SimTrade,
    private readonly sourceTypeField: boolean,
  ) {
    this.stream = aggTradeStreamName(trade.symbol);
  }

  event(micro: boolean): Record<string, unknown> {
    return aggTradeEvent(this.trade, { micro, sourceTypeField: this.sourceTypeField });
  }

  text(combined: boolean, micro: boolean): string {
    const k = (combined ? 2 : 0) + (micro ? 1 : 0);
    let s = this.cache[k];
    if (s === undefined) {
      const e = this.event(micro);
      s = JSON.stringify(combined ? { stream: this.stream, data: e } : e);
      this.cache[k] = s;
    }
    return s;
  }
}
