// Tests of RpcTcpServer over real sockets on 127.0.0.1 (port 0): calls answered however the
// stream is sliced, a record header claiming 2 GiB ends only its own connection, and close()
// answers the calls in progress before ending connections. Every wait has a 5 s deadline;
// nothing sleeps. Replies are unframed with json-pack's record decoder (an independent oracle).

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { RmRecordDecoder } from '@jsonjoy.com/json-pack/lib/rm/RmRecordDecoder.js';
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js';
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js';
import { RpcAcceptedReplyMessage, RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js';
import { silentLogger } from '../platform/logger.js';
import { portmapProgram, IPPROTO_TCP } from '../portmap/program.js';
import type { XdrReader } from '../xdr/index.js';
import { Dispatcher } from './dispatcher.js';
import { DuplicateRequestCache } from './duplicate-request-cache.js';
import { procedure, type Program } from './program.js';
import { recordHeader } from './record-marking.js';
import { InFlightBudget, RpcTcpServer } from './tcp-server.js';
import { bulkBuffers } from '../platform/buffer-pool.js';

const DEADLINE_MS = 5000;
const SLOW_PROGRAM = 400_001;

/** Rejects when `promise` has not settled within the deadline. */
function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

const none = () => new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)));

/** One call record, framed with a record-marking header. */
function framedCall(xid: number, program: number, version: number, proc: number, args: Buffer = Buffer.alloc(0)): Buffer {
  const body = Buffer.from(new RpcMessageEncoder().encodeCall(xid, program, version, proc, none(), none(), args));
  return Buffer.concat([recordHeader(body.length), body]);
}

interface Reply {
  readonly xid: number;
  readonly stat: number;
  readonly results: Buffer;
}

/** A raw TCP client that collects the replies it receives, in arrival order. */
class TestClient {
  readonly socket: net.Socket;
  readonly replies: Reply[] = [];
  readonly events: string[] = [];
  readonly closed: Promise<void>;
  readonly #decoder = new RmRecordDecoder();
  #waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.#decoder.push(chunk);
      for (let record = this.#decoder.readRecord(); record !== undefined; record = this.#decoder.readRecord()) {
        const message = new RpcMessageDecoder().decodeMessage(record);
        assert.ok(message instanceof RpcAcceptedReplyMessage, 'an accepted reply');
        this.replies.push({ xid: message.xid, stat: message.stat, results: Buffer.from(message.results?.buf() ?? []) });
        this.events.push(`reply ${message.xid}`);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    });
    socket.on('end', () => this.events.push('end'));
    socket.on('error', (error: NodeJS.ErrnoException) => this.events.push(`error ${error.code ?? error.message}`));
    this.closed = new Promise((resolve) => socket.on('close', () => resolve()));
  }

  static connect(port: number): Promise<TestClient> {
    return withDeadline(
      new Promise((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new TestClient(socket)));
        socket.once('error', reject);
      }),
      'connect',
    );
  }

  /** Resolves once `count` replies have arrived in total. */
  async replyCount(count: number): Promise<Reply[]> {
    while (this.replies.length < count) {
      await withDeadline(new Promise<void>((resolve) => this.#waiters.push(resolve)), `${count} replies`);
    }
    return this.replies;
  }

  write(bytes: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (error) => (error ? reject(error) : resolve())));
  }
}

function readVoid(reader: XdrReader): void {
  reader.end('void');
}

/** portmap (advertising itself) plus a program whose procedure 1 waits for the test. */
async function startServer(t: TestContext) {
  const release = deferred();
  const started = deferred();
  const slow: Program = {
    number: SLOW_PROGRAM,
    name: 'slow',
    versionLow: 1,
    versionHigh: 1,
    procedures: () => [
      procedure({ name: 'NULL', decode: readVoid, handle: () => undefined, encode: () => {} }),
      procedure({
        name: 'WAIT',
        decode: readVoid,
        handle: async () => {
          started.resolve();
          await release.promise;
          return 77;
        },
        encode: (w, value: number) => w.uint32(value),
      }),
    ],
  };
  let port = 0;
  const portmap = portmapProgram(() => [{ program: 100000, version: 2, protocol: IPPROTO_TCP, port }]);
  const dispatcher = new Dispatcher([portmap, slow], new DuplicateRequestCache(), silentLogger());
  const server = new RpcTcpServer({ host: '127.0.0.1', port: 0, dispatcher, log: silentLogger() });
  port = await server.listen();
  const clients: TestClient[] = [];
  let closed = false;
  t.after(async () => {
    release.resolve();
    for (const client of clients) client.socket.destroy();
    if (!closed) await withDeadline(server.close(), 'server close in cleanup');
  });
  return {
    server,
    port,
    release,
    started,
    connect: async () => {
      const client = await TestClient.connect(port);
      clients.push(client);
      return client;
    },
    markClosed: () => void (closed = true),
  };
}

const u32 = (...values: number[]): Buffer => {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v, i * 4));
  return out;
};

test('tcp server: a portmap NULL call is answered', async (t) => {
  // Goal: the whole path, socket to dispatcher to socket, with a framed reply.
  const { connect } = await startServer(t);
  const client = await connect();
  await client.write(framedCall(0x0101, 100000, 2, 0));
  const [reply] = await client.replyCount(1);
  assert.deepEqual(reply, { xid: 0x0101, stat: 0, results: Buffer.alloc(0) });
});

test('tcp server: two calls in one TCP write are both answered', async (t) => {
  // Goal: several records in one chunk are each dispatched.
  const { connect, port } = await startServer(t);
  const client = await connect();
  await client.write(Buffer.concat([framedCall(1, 100000, 2, 3, u32(100000, 2, IPPROTO_TCP, 0)), framedCall(2, 100000, 2, 0)]));
  const replies = [...(await client.replyCount(2))].sort((a, b) => a.xid - b.xid);
  assert.deepEqual(replies, [
    { xid: 1, stat: 0, results: u32(port) },
    { xid: 2, stat: 0, results: Buffer.alloc(0) },
  ]);
});

test('tcp server: a call written one byte at a time is answered', async (t) => {
  // Goal: the server reassembles a call from one-byte segments.
  const { connect } = await startServer(t);
  const client = await connect();
  const bytes = framedCall(3, 100000, 2, 0);
  for (let i = 0; i < bytes.length; i++) await client.write(bytes.subarray(i, i + 1));
  const [reply] = await client.replyCount(1);
  assert.equal(reply?.xid, 3);
  assert.equal(client.replies.length, 1);
});

test('tcp server: a record header claiming 2 GiB closes that connection; a new one is served', async (t) => {
  // Goal: a protocol violation ends its own connection only, without taking the server down.
  const { connect, server } = await startServer(t);
  const bystander = await connect();
  const attacker = await connect();
  await attacker.write(Buffer.from('ffffffff', 'hex'));
  await withDeadline(attacker.closed, 'the oversized connection to close');
  assert.deepEqual(attacker.replies, []);
  const fresh = await connect();
  await fresh.write(framedCall(4, 100000, 2, 0));
  assert.equal((await fresh.replyCount(1))[0]?.xid, 4);
  await bystander.write(framedCall(5, 100000, 2, 0));
  assert.equal((await bystander.replyCount(1))[0]?.xid, 5);
  assert.equal(server.connectionCount, 2);
});

test('tcp server: close() answers a call in progress before ending the connection', async (t) => {
  // Goal: graceful shutdown (drain) never loses the reply of a call already accepted.
  const { connect, server, port, started, release, markClosed } = await startServer(t);
  const client = await connect();
  await client.write(framedCall(6, SLOW_PROGRAM, 1, 1));
  await withDeadline(started.promise, 'the slow call to start');
  markClosed();
  let closeResolved = false;
  const closing = server.close().then(() => void (closeResolved = true));
  // A refused connection proves close() has begun (it stopped listening) a full round trip ago.
  await assert.rejects(TestClient.connect(port), /ECONNREFUSED/);
  assert.equal(closeResolved, false, 'close() waits for the call in progress');
  assert.deepEqual(client.events, [], 'neither a reply nor the end of the connection yet');
  release.resolve();
  await withDeadline(closing, 'close() to resolve');
  await withDeadline(client.closed, 'the client connection to close');
  assert.deepEqual(client.replies, [{ xid: 6, stat: 0, results: u32(77) }]);
  assert.deepEqual(client.events.slice(0, 2), ['reply 6', 'end']);
});

test('tcp server: close({ reset: true }) resets idle connections', async (t) => {
  // Goal: after a takeover clients see a reset at once rather than waiting for a timeout.
  const { connect, server, markClosed } = await startServer(t);
  const client = await connect();
  await client.write(framedCall(7, 100000, 2, 0));
  await client.replyCount(1);
  markClosed();
  await withDeadline(server.close({ reset: true }), 'close with reset');
  await withDeadline(client.closed, 'the client connection to close');
  assert.ok(client.events.includes('error ECONNRESET'), `events: ${client.events.join(', ')}`);
});

test('tcp server: the in-flight budget is exhausted past its bytes and wakes watchers when bytes come back', () => {
  // Goal: the server-wide bound on call bytes pauses readers and resumes them, never sticks.
  const budget = new InFlightBudget(1000);
  let wakes = 0;
  const unwatch = budget.watch(() => wakes++);
  budget.take(600);
  assert.equal(budget.exhausted, false);
  budget.take(600);
  assert.equal(budget.exhausted, true, 'over 1000 bytes in flight');
  budget.give(600);
  assert.equal(budget.exhausted, false);
  assert.equal(wakes, 1, 'a watcher is woken once the budget has room again');
  unwatch();
  budget.take(2000);
  budget.give(2000);
  assert.equal(wakes, 1, 'an unwatched connection is not woken');
});

test('tcp server: a pooled reply buffer is reused only once its reply has left, however long the client leaves it queued', async (t) => {
  // Goal: READ data lives in pooled buffers (platform/buffer-pool.ts) referenced by the queued
  // reply. A client that reads nothing keeps 16 MiB of replies queued (more than loopback's
  // socket buffers hold); a second wave of calls must not get the memory of a queued reply.
  const MiB = 1024 * 1024;
  const WAVE = 16;
  let ran = 0;
  const ranTo: { count: number; reached: () => void }[] = [];
  const bulk: Program = {
    number: SLOW_PROGRAM + 1,
    name: 'bulk',
    versionLow: 1,
    versionHigh: 1,
    procedures: () => [
      procedure({ name: 'NULL', decode: readVoid, handle: () => undefined, encode: () => {} }),
      procedure({
        name: 'FILL',
        decode: (reader: XdrReader) => reader.uint32(),
        handle: async (_context, value: number) => {
          const data = bulkBuffers.take(MiB).fill(value);
          ran += 1;
          for (const waiter of ranTo.filter((w) => ran >= w.count)) waiter.reached();
          return data;
        },
        encode: (w, data: Buffer) => w.uint32(data.length).payload(data),
      }),
    ],
  };
  const dispatcher = new Dispatcher([bulk], new DuplicateRequestCache(), silentLogger());
  const server = new RpcTcpServer({ host: '127.0.0.1', port: 0, dispatcher, log: silentLogger() });
  const port = await server.listen();
  const client = await TestClient.connect(port);
  t.after(async () => {
    client.socket.destroy();
    await withDeadline(server.close(), 'server close');
  });
  const ranAll = (count: number) =>
    withDeadline(
      new Promise<void>((resolve) => (ran >= count ? resolve() : ranTo.push({ count, reached: resolve }))),
      `${count} calls run`,
    ).then(() => new Promise((resolve) => setImmediate(resolve))); // their replies are written in the same turn
  client.socket.pause();
  const wave = (first: number) =>
    Buffer.concat(Array.from({ length: WAVE }, (_, index) => framedCall(first + index, SLOW_PROGRAM + 1, 1, 1, u32(first + index))));
  await client.write(wave(1));
  await ranAll(WAVE);
  await client.write(wave(1 + WAVE));
  await ranAll(2 * WAVE);
  client.socket.resume();
  const replies = await client.replyCount(2 * WAVE);
  for (const reply of replies) {
    assert.equal(reply.results.readUInt32BE(0), MiB);
    assert.ok(reply.results.subarray(4).equals(Buffer.alloc(MiB, reply.xid)), `reply ${reply.xid} carries its own bytes`);
  }
});
