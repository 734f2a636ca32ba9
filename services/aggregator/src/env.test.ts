import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ConfigError } from '@cvd/common';
import { parseAggregatorEnv } from './env.js';

describe('parseAggregatorEnv', () => {
  test('defaults: bar stream on at 100 ms per symbol, forming bars to QuestDB every 5 s, finals every 500 ms flush', () => {
    const env = parseAggregatorEnv({});
    assert.equal(env.AGGREGATOR_BAR_STREAM, true);
    assert.equal(env.AGGREGATOR_BAR_PUSH_INTERVAL, 100);
    assert.equal(env.AGGREGATOR_FORMING_WRITE_INTERVAL, 5_000);
    assert.equal(env.AGGREGATOR_FLUSH_INTERVAL, 500);
    assert.equal(env.AGGREGATOR_SNAPSHOT_INTERVAL, 5_000);
    assert.equal(env.TOPIC_BARS, 'cvd.bars.v1');
  });

  test('overrides: the push interval anywhere in 100–250 ms, forming writes 0 = every flush, the stream off', () => {
    const env = parseAggregatorEnv({ AGGREGATOR_BAR_PUSH_INTERVAL: '250ms', AGGREGATOR_FORMING_WRITE_INTERVAL: '0', AGGREGATOR_BAR_STREAM: 'false', TOPIC_BARS: 'x.bars' });
    assert.equal(env.AGGREGATOR_BAR_PUSH_INTERVAL, 250);
    assert.equal(env.AGGREGATOR_FORMING_WRITE_INTERVAL, 0);
    assert.equal(env.AGGREGATOR_BAR_STREAM, false);
    assert.equal(env.TOPIC_BARS, 'x.bars');
  });

  test('a push interval outside 100–250 ms is refused with the variable named', () => {
    for (const bad of ['99ms', '251ms', '1s']) {
      assert.throws(
        () => parseAggregatorEnv({ AGGREGATOR_BAR_PUSH_INTERVAL: bad }),
        (err: unknown) => err instanceof ConfigError && /AGGREGATOR_BAR_PUSH_INTERVAL/.test(err.message) && /100ms to 250ms/.test(err.message),
        bad,
      );
    }
  });

  test('a malformed forming-write interval is refused', () => {
    assert.throws(() => parseAggregatorEnv({ AGGREGATOR_FORMING_WRITE_INTERVAL: 'soon' }), (err: unknown) => err instanceof ConfigError && /AGGREGATOR_FORMING_WRITE_INTERVAL/.test(err.message));
  });
});
