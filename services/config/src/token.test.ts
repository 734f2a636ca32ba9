import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bearerToken, tokensEqual } from './token.js';

test('tokensEqual: equal, different, different lengths, empty', () => {
  const t = 'a-very-long-admin-token-0123456789';
  assert.equal(tokensEqual(t, t), true);
  assert.equal(tokensEqual(`${t}x`, t), false);
  assert.equal(tokensEqual(t.slice(0, -1), t), false);
  assert.equal(tokensEqual('', t), false);
  assert.equal(tokensEqual('', ''), false, 'an empty configured token never matches');
  assert.equal(tokensEqual(t.toUpperCase(), t), false);
});

test('bearerToken parses the Authorization header', () => {
  assert.equal(bearerToken('Bearer abc'), 'abc');
  assert.equal(bearerToken('bearer   abc '), 'abc');
  assert.equal(bearerToken(undefined), undefined);
  assert.equal(bearerToken('Basic abc'), undefined);
  assert.equal(bearerToken('Bearer'), undefined);
  assert.equal(bearerToken('Bearer a b'), undefined);
});
