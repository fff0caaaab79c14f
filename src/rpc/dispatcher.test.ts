// Unit tests of the dispatcher: each RFC 5531 outcome in its order (PROG_UNAVAIL, PROG_MISMATCH,
// PROC_UNAVAIL, GARBAGE_ARGS, SYSTEM_ERR), drops (handler, admission), admission release, and
// the duplicate-request cache as the dispatcher applies it. Calls are encoded and replies
// decoded with json-pack (an independent codec); the programs are small fakes and portmap.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js';
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js';
import { RpcAcceptedReplyMessage, RpcOpaqueAuth, RpcRejectedReplyMessage } from '@jsonjoy.com/json-pack/lib/rpc/messages.js';
import { silentLogger } from '../platform/logger.js';
import { portmapProgram } from '../portmap/program.js';
import type { XdrReader } from '../xdr/index.js';
import { accept_stat } from './constants.js';
import { Dispatcher, type ConnectionInfo } from './dispatcher.js';
import { DuplicateRequestCache } from './duplicate-request-cache.js';
import { DROP, procedure, type Admission, type CallContext, type Program, type ProcedureRow } from './program.js';

const TEST_PROGRAM = 400_000;
const CONNECTION: ConnectionInfo = {
  id: 1,
  client: { address: '127.0.0.1', port: 700 },
  local: { address: '127.0.0.1', port: 2049 },
};

const u32 = (...values: number[]): Buffer => {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v, i * 4));
  return out;
};

const none = () => new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)));

function call(xid: number, program: number, version: number, proc: number, args: Buffer = Buffer.alloc(0)): Buffer {
  return Buffer.from(new RpcMessageEncoder().encodeCall(xid, program, version, proc, none(), none(), args));
}

type Reply =
  | { kind: 'accepted'; xid: number; stat: number; low?: number; high?: number; results: Buffer }
  | { kind: 'rejected'; xid: number; stat: number; authStat?: number; low?: number };

function decode(chunks: Buffer[] | undefined): Reply {
  assert.ok(chunks !== undefined, 'a reply is sent');
  const message = new RpcMessageDecoder().decodeMessage(new Reader(Buffer.concat(chunks)));
  if (message instanceof RpcAcceptedReplyMessage) {
    const reply: Reply = { kind: 'accepted', xid: message.xid, stat: message.stat, results: Buffer.from(message.results?.buf() ?? []) };
    if (message.mismatchInfo !== undefined) Object.assign(reply, { low: message.mismatchInfo.low, high: message.mismatchInfo.high });
    return reply;
  }
  assert.ok(message instanceof RpcRejectedReplyMessage, 'decodes as a reply');
  return { kind: 'rejected', xid: message.xid, stat: message.stat, ...(message.authStat === undefined ? {} : { authStat: message.authStat }) };
}

function readVoid(reader: XdrReader): void {
  reader.end('void');
}
function readUint(reader: XdrReader): number {
  const value = reader.uint32();
  reader.end('uint');
  return value;
}

/** A deferred the test resolves, so a handler can be held in progress without sleeping. */
function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** A fake program, versions 2..3: each procedure counts its runs. */
function fakeProgram(options: { admit?: Program['admit']; slow?: Promise<void> } = {}) {
  const runs = { echo: 0, counter: 0, plain: 0, slow: 0, slowStarted: deferred() };
  const rows: (ProcedureRow | undefined)[] = [
    procedure({ name: 'NULL', decode: readVoid, handle: () => undefined, encode: () => {} }),
    procedure({
      name: 'ECHO',
      decode: readUint,
      target: (value) => `/target/${value}`,
      handle: (_c, value) => {
        runs.echo++;
        return value + 1;
      },
      encode: (w, value: number) => w.uint32(value),
    }),
    procedure({
      name: 'THROW',
      decode: readVoid,
      handle: () => {
        throw new Error('handler bug');
      },
      encode: () => {},
    }),
    procedure({ name: 'DROPPER', decode: readVoid, handle: () => DROP, encode: () => {} }),
    undefined, // procedure 4 is not served
    procedure({
      name: 'COUNTER',
      cacheable: true,
      decode: readUint,
      handle: (_c, value) => ++runs.counter * 1000 + value,
      encode: (w, value: number) => w.uint32(value),
    }),
    procedure({
      name: 'SLOW',
      cacheable: true,
      decode: readVoid,
      handle: async () => {
        runs.slow++;
        runs.slowStarted.resolve();
        await options.slow;
        return runs.slow;
      },
      encode: (w, value: number) => w.uint32(value),
    }),
    procedure({
      name: 'PLAIN',
      decode: readUint,
      handle: (_c, value) => ++runs.plain * 1000 + value,
      encode: (w, value: number) => w.uint32(value),
    }),
    procedure({
      name: 'CACHEABLE_THROW',
      cacheable: true,
      decode: readVoid,
      handle: () => {
        runs.counter++;
        throw new Error('cacheable handler bug');
      },
      encode: () => {},
    }),
    procedure({
      name: 'CACHEABLE_DROP',
      cacheable: true,
      decode: readVoid,
      handle: () => {
        runs.counter++;
        return DROP;
      },
      encode: () => {},
    }),
  ];
  const program: Program = {
    number: TEST_PROGRAM,
    name: 'test',
    versionLow: 2,
    versionHigh: 3,
    procedures: (version) => (version === 2 || version === 3 ? rows : undefined),
    ...(options.admit === undefined ? {} : { admit: options.admit }),
  };
  return { program, runs };
}

const PROC = { NULL: 0, ECHO: 1, THROW: 2, DROPPER: 3, UNSERVED: 4, COUNTER: 5, SLOW: 6, PLAIN: 7, CACHEABLE_THROW: 8, CACHEABLE_DROP: 9 };

function dispatcherWith(...programs: Program[]): Dispatcher {
  return new Dispatcher(programs, new DuplicateRequestCache(), silentLogger());
}

test('dispatcher: a call to an unknown program is answered PROG_UNAVAIL', async () => {
  // Goal: RFC 5531 9, the program is checked first.
  const dispatcher = dispatcherWith(portmapProgram(() => []), fakeProgram().program);
  assert.deepEqual(decode(await dispatcher.dispatch(call(11, 100003, 3, 0), CONNECTION)), {
    kind: 'accepted',
    xid: 11,
    stat: accept_stat.PROG_UNAVAIL,
    results: Buffer.alloc(0),
  });
});

test('dispatcher: a call to an unknown version is answered PROG_MISMATCH with low and high', async () => {
  // Goal: mismatch_info carries the program's own range (portmap 2..2, the fake 2..3).
  const dispatcher = dispatcherWith(portmapProgram(() => []), fakeProgram().program);
  const portmap = decode(await dispatcher.dispatch(call(12, 100000, 3, 0), CONNECTION));
  assert.deepEqual(portmap, { kind: 'accepted', xid: 12, stat: accept_stat.PROG_MISMATCH, low: 2, high: 2, results: Buffer.alloc(0) });
  for (const version of [1, 4, 0xffff_ffff]) {
    const fake = decode(await dispatcher.dispatch(call(13, TEST_PROGRAM, version, 0), CONNECTION));
    assert.deepEqual(fake, { kind: 'accepted', xid: 13, stat: accept_stat.PROG_MISMATCH, low: 2, high: 3, results: Buffer.alloc(0) });
  }
});

test('dispatcher: a call to an unknown procedure is answered PROC_UNAVAIL', async () => {
  // Goal: past the end of the table, a hole in it, and portmap's CALLIT (5) all say PROC_UNAVAIL.
  const dispatcher = dispatcherWith(portmapProgram(() => []), fakeProgram().program);
  for (const [program, version, proc] of [
    [TEST_PROGRAM, 2, PROC.UNSERVED],
    [TEST_PROGRAM, 3, 99],
    [TEST_PROGRAM, 2, 0xffff_ffff],
    [100000, 2, 5],
  ] as const) {
    const reply = decode(await dispatcher.dispatch(call(14, program, version, proc), CONNECTION));
    assert.equal(reply.stat, accept_stat.PROC_UNAVAIL, `${program}/${version}/${proc}`);
  }
});

test('dispatcher: truncated or trailing-garbage arguments are answered GARBAGE_ARGS', async () => {
  // Goal: an XdrDecodeError from a procedure's decoder becomes GARBAGE_ARGS and nothing runs.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program, portmapProgram(() => []));
  for (const args of [Buffer.alloc(0), Buffer.alloc(3), Buffer.alloc(5), u32(1, 2)]) {
    const reply = decode(await dispatcher.dispatch(call(15, TEST_PROGRAM, 2, PROC.ECHO, args), CONNECTION));
    assert.deepEqual(reply, { kind: 'accepted', xid: 15, stat: accept_stat.GARBAGE_ARGS, results: Buffer.alloc(0) });
  }
  assert.equal(runs.echo, 0);
  const nullWithArgs = decode(await dispatcher.dispatch(call(16, TEST_PROGRAM, 2, PROC.NULL, u32(0)), CONNECTION));
  assert.equal(nullWithArgs.stat, accept_stat.GARBAGE_ARGS);
  const getportShort = decode(await dispatcher.dispatch(call(17, 100000, 2, 3, u32(100003, 3, 6)), CONNECTION));
  assert.equal(getportShort.stat, accept_stat.GARBAGE_ARGS);
});

test('dispatcher: a successful call is answered SUCCESS with its encoded result', async () => {
  // Goal: the accepted header, a null verifier, then the procedure's result.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const reply = decode(await dispatcher.dispatch(call(18, TEST_PROGRAM, 3, PROC.ECHO, u32(41)), CONNECTION));
  assert.deepEqual(reply, { kind: 'accepted', xid: 18, stat: accept_stat.SUCCESS, results: u32(42) });
  assert.equal(runs.echo, 1);
});

test('dispatcher: header errors are answered RPC_MISMATCH or AUTH_ERROR, a REPLY is dropped', async () => {
  // Goal: parseCall's outcomes reach the wire as RFC 5531 rejected replies.
  const dispatcher = dispatcherWith(fakeProgram().program);
  const badVersion = call(19, TEST_PROGRAM, 2, 0);
  badVersion.writeUInt32BE(3, 8);
  assert.deepEqual(decode(await dispatcher.dispatch(badVersion, CONNECTION)), { kind: 'rejected', xid: 19, stat: 0 });
  const badCred = Buffer.from(new RpcMessageEncoder().encodeCall(20, TEST_PROGRAM, 2, 0, new RpcOpaqueAuth(3, new Reader(new Uint8Array(4))), none()));
  assert.deepEqual(decode(await dispatcher.dispatch(badCred, CONNECTION)), { kind: 'rejected', xid: 20, stat: 1, authStat: 1 });
  const reply = call(21, TEST_PROGRAM, 2, 0);
  reply.writeUInt32BE(1, 4);
  assert.equal(await dispatcher.dispatch(reply, CONNECTION), undefined);
});

test('dispatcher: a handler that throws is answered SYSTEM_ERR and the next call still works', async () => {
  // Goal: a failure inside a procedure is contained to its own call.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const failed = decode(await dispatcher.dispatch(call(22, TEST_PROGRAM, 2, PROC.THROW), CONNECTION));
  assert.deepEqual(failed, { kind: 'accepted', xid: 22, stat: accept_stat.SYSTEM_ERR, results: Buffer.alloc(0) });
  const next = decode(await dispatcher.dispatch(call(23, TEST_PROGRAM, 2, PROC.ECHO, u32(1)), CONNECTION));
  assert.deepEqual(next, { kind: 'accepted', xid: 23, stat: accept_stat.SUCCESS, results: u32(2) });
  assert.equal(runs.echo, 1);
});

test('dispatcher: a handler returning DROP yields no reply', async () => {
  // Goal: "do not answer" is an outcome, not an error reply.
  const dispatcher = dispatcherWith(fakeProgram().program);
  assert.equal(await dispatcher.dispatch(call(24, TEST_PROGRAM, 2, PROC.DROPPER), CONNECTION), undefined);
});

test('dispatcher: a call whose admission is refused gets no reply and its handler does not run', async () => {
  // Goal: the request gate drops calls before they execute; admit sees the call's target.
  const targets: unknown[] = [];
  const { program, runs } = fakeProgram({
    admit: (_context, target) => {
      targets.push(target);
      return DROP;
    },
  });
  const dispatcher = dispatcherWith(program);
  assert.equal(await dispatcher.dispatch(call(25, TEST_PROGRAM, 2, PROC.ECHO, u32(7)), CONNECTION), undefined);
  assert.equal(runs.echo, 0);
  assert.deepEqual(targets, ['/target/7']);
});

test('dispatcher: an admission is released once after success, a throw, a drop and a duplicate', async () => {
  // Goal: every admitted call releases its admission exactly once, whatever its outcome.
  let admitted = 0;
  let released = 0;
  const admit = (): Admission => {
    admitted++;
    return { release: () => void released++ };
  };
  const slow = deferred();
  const { program, runs } = fakeProgram({ admit, slow: slow.promise });
  const dispatcher = dispatcherWith(program);
  await dispatcher.dispatch(call(26, TEST_PROGRAM, 2, PROC.ECHO, u32(1)), CONNECTION);
  assert.deepEqual([admitted, released], [1, 1]);
  await dispatcher.dispatch(call(27, TEST_PROGRAM, 2, PROC.THROW), CONNECTION);
  assert.deepEqual([admitted, released], [2, 2]);
  await dispatcher.dispatch(call(28, TEST_PROGRAM, 2, PROC.DROPPER), CONNECTION);
  assert.deepEqual([admitted, released], [3, 3]);
  // Garbage arguments are refused before admission is asked.
  await dispatcher.dispatch(call(29, TEST_PROGRAM, 2, PROC.ECHO), CONNECTION);
  assert.deepEqual([admitted, released], [3, 3]);
  // A slow call holds its admission until it is answered; its duplicate releases at once.
  const first = dispatcher.dispatch(call(30, TEST_PROGRAM, 2, PROC.SLOW), CONNECTION);
  await runs.slowStarted.promise;
  assert.deepEqual([admitted, released], [4, 3]);
  assert.equal(await dispatcher.dispatch(call(30, TEST_PROGRAM, 2, PROC.SLOW), CONNECTION), undefined);
  assert.deepEqual([admitted, released], [5, 4]);
  slow.resolve();
  await first;
  assert.deepEqual([admitted, released], [5, 5]);
});

test('dispatcher: a cacheable call retransmitted with the same xid runs once and replays identical bytes', async () => {
  // Goal: the DRC answers a retransmitted non-idempotent call with its original reply.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const record = call(31, TEST_PROGRAM, 2, PROC.COUNTER, u32(5));
  const first = Buffer.concat((await dispatcher.dispatch(record, CONNECTION)) ?? []);
  const second = Buffer.concat((await dispatcher.dispatch(Buffer.from(record), CONNECTION)) ?? []);
  assert.equal(runs.counter, 1);
  assert.ok(first.length > 0);
  assert.deepEqual(second, first);
  assert.equal(decode([second]).stat, accept_stat.SUCCESS);
});

test('dispatcher: the same xid with different arguments, or from another client, runs again', async () => {
  // Goal: the DRC key covers the arguments and the client address, not only the xid.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const a = decode(await dispatcher.dispatch(call(32, TEST_PROGRAM, 2, PROC.COUNTER, u32(5)), CONNECTION));
  const b = decode(await dispatcher.dispatch(call(32, TEST_PROGRAM, 2, PROC.COUNTER, u32(6)), CONNECTION));
  const other = { ...CONNECTION, client: { address: '10.0.0.9', port: 700 } };
  const c = decode(await dispatcher.dispatch(call(32, TEST_PROGRAM, 2, PROC.COUNTER, u32(5)), other));
  assert.equal(runs.counter, 3);
  assert.deepEqual([a, b, c].map((r) => (r.kind === 'accepted' ? r.results.readUInt32BE(0) : -1)), [1005, 2006, 3005]);
  // A reconnect from the same address but another port is the same client.
  const reconnected = { ...CONNECTION, client: { address: '127.0.0.1', port: 801 } };
  const d = decode(await dispatcher.dispatch(call(32, TEST_PROGRAM, 2, PROC.COUNTER, u32(5)), reconnected));
  assert.equal(runs.counter, 3);
  assert.deepEqual(d, a);
});

test('dispatcher: a retransmission while the original is in progress gets no reply and runs nothing', async () => {
  // Goal: an in-progress DRC entry drops the duplicate; the original is answered, then replayed.
  const slow = deferred();
  const { program, runs } = fakeProgram({ slow: slow.promise });
  const dispatcher = dispatcherWith(program);
  const record = call(33, TEST_PROGRAM, 2, PROC.SLOW);
  const original = dispatcher.dispatch(record, CONNECTION);
  await runs.slowStarted.promise;
  assert.equal(await dispatcher.dispatch(Buffer.from(record), CONNECTION), undefined);
  assert.equal(runs.slow, 1);
  slow.resolve();
  const answered = Buffer.concat((await original) ?? []);
  assert.deepEqual(decode([answered]), { kind: 'accepted', xid: 33, stat: accept_stat.SUCCESS, results: u32(1) });
  const replayed = Buffer.concat((await dispatcher.dispatch(Buffer.from(record), CONNECTION)) ?? []);
  assert.deepEqual(replayed, answered);
  assert.equal(runs.slow, 1);
});

test('dispatcher: a non-cacheable procedure runs each time it is called', async () => {
  // Goal: idempotent procedures bypass the DRC.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const record = call(34, TEST_PROGRAM, 2, PROC.PLAIN, u32(1));
  const first = decode(await dispatcher.dispatch(record, CONNECTION));
  const second = decode(await dispatcher.dispatch(record, CONNECTION));
  assert.equal(runs.plain, 2);
  assert.notDeepEqual(first, second);
  assert.equal(dispatcher.duplicateRequestCache.size, 0);
});

test('dispatcher: a cacheable call that throws or drops is not cached, so its retransmission runs', async () => {
  // Goal: SYSTEM_ERR and DROP abandon the in-progress DRC entry rather than pinning it.
  const { program, runs } = fakeProgram();
  const dispatcher = dispatcherWith(program);
  const throwing = call(35, TEST_PROGRAM, 2, PROC.CACHEABLE_THROW);
  assert.equal(decode(await dispatcher.dispatch(throwing, CONNECTION)).stat, accept_stat.SYSTEM_ERR);
  assert.equal(decode(await dispatcher.dispatch(throwing, CONNECTION)).stat, accept_stat.SYSTEM_ERR);
  const dropping = call(36, TEST_PROGRAM, 2, PROC.CACHEABLE_DROP);
  assert.equal(await dispatcher.dispatch(dropping, CONNECTION), undefined);
  assert.equal(await dispatcher.dispatch(dropping, CONNECTION), undefined);
  assert.equal(runs.counter, 4);
  assert.equal(dispatcher.duplicateRequestCache.size, 0);
});

test('dispatcher: the call context carries the header, the endpoints and a request id', async () => {
  // Goal: handlers see who called and how, without ambient state.
  const seen: CallContext[] = [];
  const program: Program = {
    number: TEST_PROGRAM,
    name: 'context',
    versionLow: 1,
    versionHigh: 1,
    procedures: () => [
      procedure({ name: 'NULL', decode: readVoid, handle: (context) => void seen.push(context), encode: () => {} }),
    ],
  };
  const dispatcher = dispatcherWith(program);
  await dispatcher.dispatch(call(37, TEST_PROGRAM, 1, 0), CONNECTION);
  await dispatcher.dispatch(call(38, TEST_PROGRAM, 1, 0), CONNECTION);
  assert.equal(seen.length, 2);
  assert.deepEqual([seen[0]!.header.xid, seen[0]!.header.program, seen[0]!.header.version], [37, TEST_PROGRAM, 1]);
  assert.deepEqual(seen[0]!.client, CONNECTION.client);
  assert.deepEqual(seen[0]!.local, CONNECTION.local);
  assert.notEqual(seen[0]!.requestId, seen[1]!.requestId);
});
