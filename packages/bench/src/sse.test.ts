import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SseParser } from './sse.js';

test('SSE parser: events split across chunks, CRLF, comments, multi-line data', () => {
  const p = new SseParser();
  assert.deepEqual(p.push(': ping\n\nevent: bar\nda'), []);
  assert.deepEqual(p.push('ta: {"a":1}\n'), []);
  assert.deepEqual(p.push('\n'), [{ event: 'bar', data: '{"a":1}' }]);
  assert.deepEqual(p.push('data:x\r\ndata: y\r\n\r\ndata: z\n\n'), [
    { event: 'message', data: 'x\ny' },
    { event: 'message', data: 'z' },
  ]);
  // An event without data is not dispatched; the event name does not leak into the next one.
  assert.deepEqual(p.push('event: bar\n\ndata: w\n\n'), [{ event: 'message', data: 'w' }]);
});
