/**
 * The three Binance markets the pipeline follows, in Avro enum order (the order is part of
 * the wire format of `cvd.trades.v1` and `cvd.symbols.v1`: append only).
 */
export const MARKETS = ['spot', 'usdm', 'coinm'] as const;
export type Market = (typeof MARKETS)[number];

export function isMarket(value: unknown): value is Market {
  return value === 'spot' || value === 'usdm' || value === 'coinm';
}
