// Unit tests of the RPC call and reply headers (RFC 5531 sections 9 and 14): a call header with
// AUTH_SYS written out by hand from the RFC, every outcome of parseCall (call, RPC_MISMATCH,
// AUTH_ERROR with its auth_stat, GARBAGE_ARGS, drop), and the exact bytes of each reply writer.
// json-pack's RpcMessageEncoder/Decoder is an independent oracle for both directions.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js';
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js';
import { RpcAcceptedReplyMessage, RpcOpaqueAuth, RpcRejectedReplyMessage } from '@jsonjoy.com/json-pack/lib/rpc/messages.js';
import { XdrWriter } from '../xdr/index.js';
import { accept_stat, auth_stat } from './constants.js';
import { acceptedErrorReply, authErrorReply, parseCall, progMismatchReply, rpcMismatchReply, type ParsedCall } from './message.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

// RFC 5531 9 (call_body) and 14 (authsys_parms), field by field.
const AUTH_SYS_BODY = Buffer.concat([
  hex('11223344'), // stamp
  hex('00000004 686f7374'), // machinename<255>: "host"
  hex('000003e8'), // uid 1000
  hex('00000064'), // gid 100
  hex('00000002 00000064 00000000'), // gids<16>: 100, 0
]);
const GOLDEN_CALL = Buffer.concat([
  hex('01020304'), // xid
  hex('00000000'), // msg_type CALL
  hex('00000002'), // rpcvers 2
  hex('000186a3'), // prog 100003
  hex('00000003'), // vers 3
  hex('00000001'), // proc 1
  hex('00000001 00000020'), // cred: AUTH_SYS, 32 bytes
  AUTH_SYS_BODY,
  hex('00000000 00000000'), // verf: AUTH_NONE, 0 bytes
  hex('0000002a'), // procedure arguments
]);

const none = () => new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)));
const auth = (flavor: number, body: Uint8Array) => new RpcOpaqueAuth(flavor, new Reader(body));

/** A call encoded by json-pack (an independent encoder). */
function oracleCall(options: {
  xid?: number;
  cred?: RpcOpaqueAuth;
  verf?: RpcOpaqueAuth;
  args?: Uint8Array;
}): Buffer {
  const encoded = new RpcMessageEncoder().encodeCall(
    options.xid ?? 7,
    100003,
    3,
    0,
    options.cred ?? none(),
    options.verf ?? none(),
    options.args ?? new Uint8Array(0),
  );
  return Buffer.from(encoded);
}

/** An AUTH_SYS body written with our XdrWriter (for the bound cases json-pack will not write). */
function authSysBody(machineName: string, gids: number[]): Buffer {
  const writer = new XdrWriter().uint32(1).string(machineName).uint32(0).uint32(0).uint32(gids.length);
  for (const gid of gids) writer.uint32(gid);
  return writer.toBuffer();
}

function expectKind<K extends ParsedCall['kind']>(parsed: ParsedCall, kind: K): Extract<ParsedCall, { kind: K }> {
  assert.equal(parsed.kind, kind, `expected ${kind}, got ${parsed.kind} (${'reason' in parsed ? parsed.reason : ''})`);
  return parsed as Extract<ParsedCall, { kind: K }>;
}

function decodeReply(bytes: Buffer): RpcAcceptedReplyMessage | RpcRejectedReplyMessage {
  const message = new RpcMessageDecoder().decodeMessage(new Reader(bytes));
  assert.ok(message instanceof RpcAcceptedReplyMessage || message instanceof RpcRejectedReplyMessage, 'decodes as a reply');
  return message;
}

test('message: the hand-written AUTH_SYS call header equals json-pack\'s encoding', () => {
  // Goal: the golden bytes below are themselves right (two independent writers agree).
  const oracle = oracleCall({ xid: 0x01020304, cred: auth(1, AUTH_SYS_BODY), args: hex('0000002a') });
  // json-pack writes proc 0 in oracleCall; patch only that word to compare the rest.
  oracle.writeUInt32BE(1, 20);
  assert.deepEqual(oracle, GOLDEN_CALL);
});

test('message: parseCall reads the golden AUTH_SYS call header field by field', () => {
  // Goal: every field of call_body and authsys_parms lands where RFC 5531 puts it.
  const call = expectKind(parseCall(GOLDEN_CALL), 'call');
  assert.deepEqual(
    { xid: call.header.xid, program: call.header.program, version: call.header.version, procedure: call.header.procedure },
    { xid: 0x01020304, program: 100003, version: 3, procedure: 1 },
  );
  assert.deepEqual(call.header.credential, { flavor: 'sys', stamp: 0x11223344, machineName: 'host', uid: 1000, gid: 100, gids: [100, 0] });
  assert.equal(call.argsOffset, GOLDEN_CALL.length - 4);
  assert.equal(call.args.uint32(), 42);
  call.args.end('args');
});

test('message: parseCall accepts AUTH_NONE with a null verifier', () => {
  // Goal: the common NULL-procedure call parses with no credential.
  const call = expectKind(parseCall(oracleCall({ xid: 99 })), 'call');
  assert.equal(call.header.xid, 99);
  assert.deepEqual(call.header.credential, { flavor: 'none' });
  assert.equal(call.args.remaining, 0);
});

test('message: rpcvers 3 is answered with RPC_MISMATCH', () => {
  // Goal: RFC 5531 9, the version is checked before the rest of the call is trusted.
  const record = Buffer.from(GOLDEN_CALL);
  record.writeUInt32BE(3, 8);
  assert.deepEqual(parseCall(record), { kind: 'rpc-mismatch', xid: 0x01020304 });
  // Even with nothing after the version: the mismatch is still answerable.
  assert.deepEqual(parseCall(record.subarray(0, 12)), { kind: 'rpc-mismatch', xid: 0x01020304 });
});

test('message: a REPLY message, or a record too short for xid and type, is dropped', () => {
  // Goal: nothing is answered when there is no call to answer.
  const reply = Buffer.from(GOLDEN_CALL);
  reply.writeUInt32BE(1, 4);
  expectKind(parseCall(reply), 'drop');
  const unknownType = Buffer.from(GOLDEN_CALL);
  unknownType.writeUInt32BE(2, 4);
  expectKind(parseCall(unknownType), 'drop');
  for (let length = 0; length <= 7; length++) expectKind(parseCall(GOLDEN_CALL.subarray(0, length)), 'drop');
});

test('message: a call truncated after xid and type is answered GARBAGE_ARGS', () => {
  // Goal: once the xid is known, a short header gets an answer (not silence) up to the credential.
  for (let length = 8; length < 24; length++) {
    const parsed = expectKind(parseCall(GOLDEN_CALL.subarray(0, length)), 'garbage');
    assert.equal(parsed.xid, 0x01020304, `length ${length}`);
  }
});

test('message: a call truncated anywhere in its credential or verifier is GARBAGE_ARGS, never run', () => {
  // Goal: no prefix of the header is taken for a call; each is malformed, answered with its xid.
  const headerBytes = GOLDEN_CALL.length - 4;
  for (let length = 24; length < headerBytes; length++) {
    const parsed = expectKind(parseCall(GOLDEN_CALL.subarray(0, length)), 'garbage');
    assert.equal(parsed.xid, 0x01020304);
  }
  expectKind(parseCall(GOLDEN_CALL.subarray(0, headerBytes)), 'call');
});

test('message: a credential body of 401 bytes is AUTH_BADCRED', () => {
  // Goal: RFC 5531 8.2, opaque_auth bodies are at most 400 bytes; 400 is still accepted.
  const record = (bodyBytes: number) =>
    Buffer.concat([hex('00000001 00000000 00000002 000186a3 00000003 00000000'), new XdrWriter().uint32(0).opaque(Buffer.alloc(bodyBytes)).uint32(0).uint32(0).toBuffer()]);
  assert.deepEqual(parseCall(record(401)), { kind: 'auth-error', xid: 1, stat: auth_stat.AUTH_BADCRED });
  expectKind(parseCall(record(400)), 'call');
});

test('message: a verifier body of 401 bytes is refused too', () => {
  // Goal: the verifier's opaque_auth has the same bound as the credential's.
  const record = Buffer.concat([
    hex('00000001 00000000 00000002 000186a3 00000003 00000000 00000000 00000000'),
    new XdrWriter().uint32(0).opaque(Buffer.alloc(401)).toBuffer(),
  ]);
  const parsed = expectKind(parseCall(record), 'auth-error');
  assert.equal(parsed.xid, 1);
});

test('message: flavors other than AUTH_NONE and AUTH_SYS are AUTH_BADCRED', () => {
  // Goal: AUTH_SHORT (2), AUTH_DH (3) and RPCSEC_GSS (6) are refused, as the Linux server does.
  for (const flavor of [2, 3, 6, 0x7fff_ffff]) {
    assert.deepEqual(parseCall(oracleCall({ xid: 5, cred: auth(flavor, new Uint8Array(8)) })), {
      kind: 'auth-error',
      xid: 5,
      stat: auth_stat.AUTH_BADCRED,
    });
  }
});

test('message: AUTH_SYS with 17 gids is AUTH_BADCRED, with 16 it is accepted', () => {
  // Goal: RFC 5531 14, gids<16>.
  const parsed = parseCall(oracleCall({ xid: 6, cred: auth(1, authSysBody('h', Array.from({ length: 17 }, (_, i) => i))) }));
  assert.deepEqual(parsed, { kind: 'auth-error', xid: 6, stat: auth_stat.AUTH_BADCRED });
  const sixteen = expectKind(parseCall(oracleCall({ cred: auth(1, authSysBody('h', Array.from({ length: 16 }, (_, i) => i))) })), 'call');
  assert.equal(sixteen.header.credential.flavor === 'sys' && sixteen.header.credential.gids.length, 16);
});

test('message: AUTH_SYS with a 256-byte machine name, trailing bytes or a short body is AUTH_BADCRED', () => {
  // Goal: RFC 5531 14, machinename<255>, and the body must be exactly one authsys_parms.
  const call = (body: Uint8Array) => parseCall(oracleCall({ xid: 8, cred: auth(1, body) }));
  assert.deepEqual(call(authSysBody('m'.repeat(256), [])), { kind: 'auth-error', xid: 8, stat: auth_stat.AUTH_BADCRED });
  expectKind(call(authSysBody('m'.repeat(255), [])), 'call');
  assert.deepEqual(call(Buffer.concat([authSysBody('m', []), hex('00000000')])), {
    kind: 'auth-error',
    xid: 8,
    stat: auth_stat.AUTH_BADCRED,
  });
  assert.deepEqual(call(authSysBody('m', [1]).subarray(0, 20)), { kind: 'auth-error', xid: 8, stat: auth_stat.AUTH_BADCRED });
});

test('message: a non-null verifier with AUTH_SYS or AUTH_NONE is AUTH_BADVERF', () => {
  // Goal: RFC 5531 14, the verifier accompanying AUTH_SYS (and AUTH_NONE) has flavor AUTH_NONE.
  const sys = auth(1, authSysBody('h', []));
  assert.deepEqual(parseCall(oracleCall({ xid: 9, cred: sys, verf: auth(1, authSysBody('h', [])) })), {
    kind: 'auth-error',
    xid: 9,
    stat: auth_stat.AUTH_BADVERF,
  });
  assert.deepEqual(parseCall(oracleCall({ xid: 10, verf: auth(3, new Uint8Array(4)) })), {
    kind: 'auth-error',
    xid: 10,
    stat: auth_stat.AUTH_BADVERF,
  });
});

test('message: RPC_MISMATCH reply bytes carry low = high = 2', () => {
  // Goal: rejected_reply, RFC 5531 9, written out by hand and read back by json-pack.
  const bytes = rpcMismatchReply(0x01020304);
  assert.deepEqual(bytes, hex('01020304 00000001 00000001 00000000 00000002 00000002'));
  const reply = decodeReply(bytes);
  assert.ok(reply instanceof RpcRejectedReplyMessage);
  assert.deepEqual([reply.xid, reply.stat, reply.mismatchInfo?.low, reply.mismatchInfo?.high], [0x01020304, 0, 2, 2]);
});

test('message: AUTH_ERROR reply bytes carry the auth_stat', () => {
  // Goal: rejected_reply with AUTH_ERROR, for BADCRED and BADVERF.
  assert.deepEqual(authErrorReply(0xfffffffe, auth_stat.AUTH_BADCRED), hex('fffffffe 00000001 00000001 00000001 00000001'));
  assert.deepEqual(authErrorReply(7, auth_stat.AUTH_BADVERF), hex('00000007 00000001 00000001 00000001 00000003'));
  const reply = decodeReply(authErrorReply(7, auth_stat.AUTH_BADVERF));
  assert.ok(reply instanceof RpcRejectedReplyMessage);
  assert.deepEqual([reply.xid, reply.stat, reply.authStat], [7, 1, 3]);
});

test('message: PROG_MISMATCH reply bytes carry the low and high versions', () => {
  // Goal: accepted_reply with a null verifier and mismatch_info.
  const bytes = progMismatchReply(0x0a0b0c0d, 2, 4);
  assert.deepEqual(bytes, hex('0a0b0c0d 00000001 00000000 00000000 00000000 00000002 00000002 00000004'));
  const reply = decodeReply(bytes);
  assert.ok(reply instanceof RpcAcceptedReplyMessage);
  assert.deepEqual([reply.stat, reply.mismatchInfo?.low, reply.mismatchInfo?.high, reply.verf.flavor], [2, 2, 4, 0]);
  assert.equal(reply.results, undefined);
});

test('message: GARBAGE_ARGS and the other accepted errors are a bare accepted header', () => {
  // Goal: accepted_reply with a void arm: xid, REPLY, MSG_ACCEPTED, null verifier, accept_stat.
  assert.deepEqual(acceptedErrorReply(1, accept_stat.GARBAGE_ARGS), hex('00000001 00000001 00000000 00000000 00000000 00000004'));
  assert.deepEqual(acceptedErrorReply(1, accept_stat.PROG_UNAVAIL), hex('00000001 00000001 00000000 00000000 00000000 00000001'));
  assert.deepEqual(acceptedErrorReply(1, accept_stat.PROC_UNAVAIL), hex('00000001 00000001 00000000 00000000 00000000 00000003'));
  assert.deepEqual(acceptedErrorReply(1, accept_stat.SYSTEM_ERR), hex('00000001 00000001 00000000 00000000 00000000 00000005'));
  // The same bytes json-pack writes for these replies.
  const oracle = Buffer.from(new RpcMessageEncoder().encodeAcceptedReply(1, none(), 4));
  assert.deepEqual(acceptedErrorReply(1, accept_stat.GARBAGE_ARGS), oracle);
});
