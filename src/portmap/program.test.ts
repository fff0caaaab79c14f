// Tests of portmapper version 2 (RFC 1833 section 3) through the dispatcher: GETPORT for
// registered and unregistered (program, version, protocol), the golden encoding of DUMP's
// pmaplist, SET/UNSET refused with FALSE, and CALLIT not offered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js';
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js';
import { RpcAcceptedReplyMessage, RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js';
import { silentLogger } from '../platform/logger.js';
import { Dispatcher, type ConnectionInfo } from '../rpc/dispatcher.js';
import { DuplicateRequestCache } from '../rpc/duplicate-request-cache.js';
import { IPPROTO_TCP, IPPROTO_UDP, PMAPPROC, PMAP_PROGRAM, PMAP_VERSION, portmapProgram, type Mapping } from './program.js';

const CONNECTION: ConnectionInfo = { id: 1, client: { address: '127.0.0.1', port: 900 }, local: { address: '127.0.0.1', port: 111 } };
const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const u32 = (...values: number[]): Buffer => {
  const out = Buffer.alloc(values.length * 4);
  values.forEach((v, i) => out.writeUInt32BE(v, i * 4));
  return out;
};
const none = () => new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)));

const MAPPINGS: Mapping[] = [
  { program: 100000, version: 2, protocol: IPPROTO_TCP, port: 111 },
  { program: 100003, version: 3, protocol: IPPROTO_TCP, port: 2049 },
  { program: 100005, version: 3, protocol: IPPROTO_TCP, port: 20048 },
];

/** Calls portmap through a dispatcher; returns accept_stat and the result bytes. */
async function portmap(mappings: () => readonly Mapping[], proc: number, args: Buffer = Buffer.alloc(0)) {
  const dispatcher = new Dispatcher([portmapProgram(mappings)], new DuplicateRequestCache(), silentLogger());
  const record = Buffer.from(new RpcMessageEncoder().encodeCall(42, PMAP_PROGRAM, PMAP_VERSION, proc, none(), none(), args));
  const chunks = await dispatcher.dispatch(record, CONNECTION);
  assert.ok(chunks !== undefined, 'portmap answers');
  const reply = new RpcMessageDecoder().decodeMessage(new Reader(Buffer.concat(chunks)));
  assert.ok(reply instanceof RpcAcceptedReplyMessage);
  assert.equal(reply.xid, 42);
  return { stat: reply.stat, results: Buffer.from(reply.results?.buf() ?? []) };
}

test('portmap: NULL answers with no result', async () => {
  // Goal: RFC 1833 3.2, procedure 0 does no work.
  assert.deepEqual(await portmap(() => MAPPINGS, PMAPPROC.NULL), { stat: 0, results: Buffer.alloc(0) });
});

test('portmap: GETPORT of a registered program returns its port', async () => {
  // Goal: RFC 1833 3.2, the port of (prog, vers, prot); the argument's port is ignored.
  assert.deepEqual(await portmap(() => MAPPINGS, PMAPPROC.GETPORT, u32(100003, 3, IPPROTO_TCP, 0)), { stat: 0, results: u32(2049) });
  assert.deepEqual(await portmap(() => MAPPINGS, PMAPPROC.GETPORT, u32(100005, 3, IPPROTO_TCP, 999)), { stat: 0, results: u32(20048) });
});

test('portmap: GETPORT of an unregistered program, version or protocol returns 0', async () => {
  // Goal: RFC 1833 3.2, "a port value of zeros means the program has not been registered".
  for (const args of [u32(100021, 4, IPPROTO_TCP, 0), u32(100003, 4, IPPROTO_TCP, 0), u32(100003, 3, IPPROTO_UDP, 0)]) {
    assert.deepEqual(await portmap(() => MAPPINGS, PMAPPROC.GETPORT, args), { stat: 0, results: u32(0) });
  }
});

test('portmap: GETPORT reads the current mappings at each call', async () => {
  // Goal: mappings is a function, so a port bound later (port 0 listen) is reported.
  let port = 0;
  const mappings = () => [{ program: 100003, version: 3, protocol: IPPROTO_TCP, port }];
  assert.deepEqual((await portmap(mappings, PMAPPROC.GETPORT, u32(100003, 3, IPPROTO_TCP, 0))).results, u32(0));
  port = 32049;
  assert.deepEqual((await portmap(mappings, PMAPPROC.GETPORT, u32(100003, 3, IPPROTO_TCP, 0))).results, u32(32049));
});

test('portmap: DUMP encodes pmaplist as TRUE-prefixed mappings ended by FALSE', async () => {
  // Goal: RFC 1833 3.1, struct *pmaplist { mapping map; pmaplist next; }, written out by hand.
  const { stat, results } = await portmap(() => MAPPINGS, PMAPPROC.DUMP);
  assert.equal(stat, 0);
  assert.deepEqual(
    results,
    hex(`00000001 000186a0 00000002 00000006 0000006f
         00000001 000186a3 00000003 00000006 00000801
         00000001 000186a5 00000003 00000006 00004e50
         00000000`),
  );
  assert.deepEqual((await portmap(() => [], PMAPPROC.DUMP)).results, hex('00000000'));
});

test('portmap: SET and UNSET answer FALSE and change nothing', async () => {
  // Goal: other services may not register with us; the mapping list is unchanged.
  const mappings = [...MAPPINGS];
  const mapping = u32(100021, 4, IPPROTO_TCP, 4045);
  assert.deepEqual(await portmap(() => mappings, PMAPPROC.SET, mapping), { stat: 0, results: u32(0) });
  assert.deepEqual((await portmap(() => mappings, PMAPPROC.GETPORT, mapping)).results, u32(0));
  assert.deepEqual(await portmap(() => mappings, PMAPPROC.UNSET, u32(100003, 3, IPPROTO_TCP, 2049)), { stat: 0, results: u32(0) });
  assert.deepEqual((await portmap(() => mappings, PMAPPROC.GETPORT, u32(100003, 3, IPPROTO_TCP, 0))).results, u32(2049));
});

test('portmap: CALLIT is PROC_UNAVAIL and a short mapping is GARBAGE_ARGS', async () => {
  // Goal: no indirect calls (amplification); malformed mappings are refused.
  assert.equal((await portmap(() => MAPPINGS, PMAPPROC.CALLIT, u32(100003, 3, 0, 0))).stat, 3);
  assert.equal((await portmap(() => MAPPINGS, PMAPPROC.GETPORT, u32(100003, 3, IPPROTO_TCP))).stat, 4);
  assert.equal((await portmap(() => MAPPINGS, PMAPPROC.DUMP, u32(0))).stat, 4);
});
