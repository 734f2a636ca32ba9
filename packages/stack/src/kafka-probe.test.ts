import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { brokersInResponse, kafkaHealthy, metadataRequest } from './kafka-probe.js';

test('the metadata request is a framed Metadata v4 asking for no topics', () => {
  const frame = metadataRequest(7);
  assert.equal(frame.readInt32BE(0), frame.length - 4, 'size prefix');
  assert.equal(frame.readInt16BE(4), 3, 'api key Metadata');
  assert.equal(frame.readInt16BE(6), 4, 'version 4');
  assert.equal(frame.readInt32BE(8), 7, 'correlation id');
  const clientLength = frame.readInt16BE(12);
  assert.equal(frame.subarray(14, 14 + clientLength).toString(), 'cvd-stack-health');
  assert.equal(frame.readInt32BE(14 + clientLength), 0, 'empty topic array');
  assert.equal(frame.readInt8(18 + clientLength), 0, 'no auto-creation');
  assert.equal(frame.length, 19 + clientLength);
});

/** A response body: correlation id, throttle time, broker count (the rest is not read). */
function response(correlationId: number, brokers: number): Buffer {
  const b = Buffer.alloc(12);
  b.writeInt32BE(correlationId, 0);
  b.writeInt32BE(0, 4);
  b.writeInt32BE(brokers, 8);
  return b;
}

test('a response counts its brokers only for our correlation id', () => {
  assert.equal(brokersInResponse(response(9, 1), 9), 1);
  assert.equal(brokersInResponse(response(8, 1), 9), undefined);
  assert.equal(brokersInResponse(Buffer.alloc(6), 9), undefined);
});

/** A server that answers the first request with `brokers` brokers, in two chunks. */
async function fakeBroker(brokers: number): Promise<{ address: string; close: () => void }> {
  const server = createServer((socket) => {
    socket.once('data', (req: Buffer) => {
      const body = response(req.readInt32BE(8), brokers);
      const size = Buffer.alloc(4);
      size.writeInt32BE(body.length);
      const frame = Buffer.concat([size, body]);
      socket.write(frame.subarray(0, 6));
      setTimeout(() => socket.end(frame.subarray(6)), 5);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

test('healthy when a broker answers and lists a broker; not when it lists none or nothing listens', async () => {
  const one = await fakeBroker(1);
  const none = await fakeBroker(0);
  try {
    assert.equal(await kafkaHealthy(one.address), true);
    assert.equal(await kafkaHealthy(none.address), false);
  } finally {
    one.close();
    none.close();
  }
  assert.equal(await kafkaHealthy(none.address, 500), false, 'connection refused');
});
