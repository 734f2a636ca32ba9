/**
 * Is a Kafka broker serving? One Metadata request (v4, the oldest version Kafka 4 still
 * answers; non-flexible encoding) over a plain socket, asking for no topics: healthy when the
 * broker answers and lists at least one broker. Spoken here, not through a Kafka client,
 * because the stack sits below the test kit and so below `@cvd/kafka` (which is the only
 * package that uses one): this package stays dependency-free.
 * Protocol: https://kafka.apache.org/protocol#The_Messages_Metadata
 */
import { connect } from 'node:net';

const METADATA = 3;
const VERSION = 4;
const CLIENT_ID = 'cvd-stack-health';

/** The framed request: size, header v1 (api key, version, correlation id, client id), body. */
export function metadataRequest(correlationId: number): Buffer {
  const client = Buffer.from(CLIENT_ID, 'utf8');
  const body = Buffer.alloc(2 + 2 + 4 + 2 + client.length + 4 + 1);
  let o = 0;
  o = body.writeInt16BE(METADATA, o);
  o = body.writeInt16BE(VERSION, o);
  o = body.writeInt32BE(correlationId, o);
  o = body.writeInt16BE(client.length, o);
  o += client.copy(body, o);
  o = body.writeInt32BE(0, o); // topics: an empty array (no topic metadata, brokers only)
  body.writeInt8(0, o); // allow_auto_topic_creation: false
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** Brokers listed in a Metadata v4 response body (after the size prefix), or undefined if it is not one for `correlationId`. */
export function brokersInResponse(frame: Buffer, correlationId: number): number | undefined {
  // correlation_id int32, throttle_time_ms int32, brokers: int32 count, ...
  if (frame.length < 12) return undefined;
  if (frame.readInt32BE(0) !== correlationId) return undefined;
  const brokers = frame.readInt32BE(8);
  return brokers >= 0 ? brokers : undefined;
}

/** Healthy = the broker answers a metadata request and lists itself. */
export async function kafkaHealthy(brokers: string, timeoutMs = 3000): Promise<boolean> {
  const i = brokers.lastIndexOf(':');
  const host = brokers.slice(0, i);
  const port = Number(brokers.slice(i + 1));
  const correlationId = 1 + Math.floor(Math.random() * 1_000_000);
  return new Promise<boolean>((resolve) => {
    let received = Buffer.alloc(0);
    const socket = connect({ host, port });
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => socket.write(metadataRequest(correlationId)));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length < 4) return;
      const size = received.readInt32BE(0);
      if (received.length < 4 + size) return;
      const n = brokersInResponse(received.subarray(4, 4 + size), correlationId);
      done(n !== undefined && n > 0);
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}
