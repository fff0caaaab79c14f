// Tests of MOUNT version 3 (RFC 1813 Appendix I) through the dispatcher: MNT's three outcomes
// (OK with handle and flavors, NOENT, ACCES), the advisory mount list (DUMP, UMNT, UMNTALL),
// EXPORT's golden encoding, and MNT dropped while the export's request gate drains. The volume
// is a fake with only what MNT uses (identity, rootFileId, fileHandle, lookup, getattr): its
// root holds a directory "sub" (fileid 2) and a regular file "file" (fileid 3).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { RpcMessageDecoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageDecoder.js';
import { RpcMessageEncoder } from '@jsonjoy.com/json-pack/lib/rpc/RpcMessageEncoder.js';
import { RpcAcceptedReplyMessage, RpcOpaqueAuth } from '@jsonjoy.com/json-pack/lib/rpc/messages.js';
import { parseClientRules } from '../exports/client-rules.js';
import { ExportTable, type Export } from '../exports/export-table.js';
import { silentLogger } from '../platform/logger.js';
import { Dispatcher } from '../rpc/dispatcher.js';
import { DuplicateRequestCache } from '../rpc/duplicate-request-cache.js';
import { RequestGate } from '../server/request-gate.js';
import { StorageError, type Volume } from '../storage/types.js';
import { XdrWriter } from '../xdr/index.js';
import { MountList } from './mount-list.js';
import { MNTPATHLEN, MOUNTPROC3, MOUNT_PROGRAM, MOUNT_V3, mountProgram, mountstat3 } from './program.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const none = () => new RpcOpaqueAuth(0, new Reader(new Uint8Array(0)));
const dirpath = (path: string): Buffer => new XdrWriter().string(path).toBuffer();

/** Only what MOUNT touches: identity, rootFileId, fileHandle, lookup and getattr. */
function fakeVolume(idByte: number, name: string): Volume {
  const id = Buffer.alloc(16, idByte);
  const children = new Map([['sub', 2n], ['file', 3n]]);
  const fake = {
    identity: { id, name, fsid: BigInt(idByte) },
    rootFileId: 1n,
    lookup(_caller: unknown, directory: bigint, child: string): bigint {
      const fileid = directory === 1n ? children.get(child) : undefined;
      if (fileid === undefined) throw new StorageError('not-found', `${child}: no such entry`);
      return fileid;
    },
    getattr: (fileid: bigint) => ({ type: fileid === 3n ? 'reg' : 'dir' }),
    fileHandle(fileid: bigint): Buffer {
      const handle = Buffer.alloc(24);
      id.copy(handle, 0);
      handle.writeBigUInt64BE(fileid, 16);
      return handle;
    },
  };
  return fake as unknown as Volume;
}

function setup() {
  const data: Export = {
    path: '/data',
    volume: fakeVolume(0xaa, 'data'),
    rules: parseClientRules('127.0.0.0/8(rw) 10.1.2.3(ro)'),
    gate: new RequestGate(),
  };
  const home: Export = { path: '/home', volume: fakeVolume(0xbb, 'home'), rules: parseClientRules('*(ro)'), gate: new RequestGate() };
  const mounts = new MountList();
  const dispatcher = new Dispatcher([mountProgram(new ExportTable([data, home]), mounts)], new DuplicateRequestCache(), silentLogger());
  let xid = 0;
  /** A MOUNT call from `client`; the result bytes, or undefined when dropped. */
  const mount = async (client: string, proc: number, args: Buffer = Buffer.alloc(0)) => {
    const record = Buffer.from(new RpcMessageEncoder().encodeCall(++xid, MOUNT_PROGRAM, MOUNT_V3, proc, none(), none(), args));
    const chunks = await dispatcher.dispatch(record, { id: 1, client: { address: client, port: 800 }, local: { address: '127.0.0.1', port: 20048 } });
    if (chunks === undefined) return undefined;
    const reply = new RpcMessageDecoder().decodeMessage(new Reader(Buffer.concat(chunks)));
    assert.ok(reply instanceof RpcAcceptedReplyMessage);
    assert.equal(reply.stat, 0, 'SUCCESS at the RPC level');
    return Buffer.from(reply.results?.buf() ?? []);
  };
  return { data, home, mounts, mount };
}

test('mount: MNT of an allowed export returns MNT3_OK, the root handle and AUTH_SYS, AUTH_NONE', async () => {
  // Goal: mountres3_ok { fhandle3 fhandle; int auth_flavors<>; } byte for byte.
  const { mount, data } = setup();
  const result = await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data'));
  assert.deepEqual(
    result,
    Buffer.concat([
      hex('00000000'), // MNT3_OK
      hex('00000018'), // fhandle3 of 24 bytes
      data.volume.fileHandle(1n),
      hex('00000002 00000001 00000000'), // auth_flavors: AUTH_SYS, AUTH_NONE
    ]),
  );
  assert.equal((data.gate as RequestGate).inProgress, 0, 'the gate is left after MNT');
});

test('mount: MNT of an unnormalized export path is the export itself', async () => {
  // Goal: "/data/" and "//data" name the export "/data".
  const { mount } = setup();
  for (const path of ['/data/', '//data', '/data//']) {
    const result = await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath(path));
    assert.equal(result?.readUInt32BE(0), mountstat3.MNT3_OK, path);
  }
});

test('mount: MNT of an unknown path is MNT3ERR_NOENT, of a file below an export MNT3ERR_NOTDIR', async () => {
  // Goal: a path outside every export, or missing below one, cannot be mounted.
  const { mount, mounts } = setup();
  for (const path of ['/nope', '/', '', '/data/missing', '/data/sub/deeper']) {
    assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath(path)), hex('00000002'), path);
  }
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data/file')), hex('00000014'));
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data/../home')), hex('00000016'));
  assert.deepEqual(mounts.list(), []);
});

test('mount: MNT of a directory below an export root returns the handle of that directory', async () => {
  // Goal: as Linux nfsd and Ganesha allow (libnfs mounts the whole path of its URL).
  const { mount, mounts } = setup();
  const reply = await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data/sub'));
  assert.equal(reply?.readUInt32BE(0), mountstat3.MNT3_OK);
  const handleBytes = reply!.readUInt32BE(4);
  assert.equal(reply!.readBigUInt64BE(8 + 16), 2n, 'the handle names fileid 2, the directory "sub"');
  assert.equal(handleBytes, 24);
  assert.deepEqual(mounts.list(), [{ host: '127.0.0.1', path: '/data/sub' }]);
});

test('mount: MNT from a client no rule matches is MNT3ERR_ACCES and is not listed', async () => {
  // Goal: the export's client rules decide who may mount; IPv4-mapped IPv6 counts as IPv4.
  const { mount, mounts } = setup();
  assert.deepEqual(await mount('192.168.1.1', MOUNTPROC3.MNT, dirpath('/data')), hex('0000000d'));
  assert.deepEqual(await mount('10.1.2.4', MOUNTPROC3.MNT, dirpath('/data')), hex('0000000d'));
  assert.deepEqual(mounts.list(), []);
  assert.equal((await mount('::ffff:10.1.2.3', MOUNTPROC3.MNT, dirpath('/data')))?.readUInt32BE(0), mountstat3.MNT3_OK);
});

test('mount: a path longer than MNTPATHLEN is GARBAGE_ARGS', async () => {
  // Goal: dirpath<MNTPATHLEN> is enforced by the decoder.
  const { data } = setup();
  const dispatcher = new Dispatcher([mountProgram(new ExportTable([data]))], new DuplicateRequestCache(), silentLogger());
  const record = Buffer.from(new RpcMessageEncoder().encodeCall(1, MOUNT_PROGRAM, MOUNT_V3, MOUNTPROC3.MNT, none(), none(), dirpath('/'.repeat(MNTPATHLEN + 1))));
  const reply = new RpcMessageDecoder().decodeMessage(new Reader(Buffer.concat((await dispatcher.dispatch(record, { id: 1, client: { address: '127.0.0.1', port: 1 }, local: { address: '127.0.0.1', port: 2 } })) ?? [])));
  assert.ok(reply instanceof RpcAcceptedReplyMessage);
  assert.equal(reply.stat, 4);
});

test('mount: DUMP lists the mounts as mountbody entries', async () => {
  // Goal: mountbody { name ml_hostname; dirpath ml_directory; mountlist ml_next; }.
  const { mount } = setup();
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.DUMP), hex('00000000'));
  await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data/'));
  assert.deepEqual(
    await mount('127.0.0.1', MOUNTPROC3.DUMP),
    hex(`00000001 00000009 3132372e302e302e31 000000  00000005 2f64617461 000000
         00000000`),
  );
});

test('mount: UMNT removes one mount of the calling host', async () => {
  // Goal: the entry (host, export) goes; others stay.
  const { mount, mounts } = setup();
  await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data'));
  await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/home'));
  await mount('127.0.0.2', MOUNTPROC3.MNT, dirpath('/data'));
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.UMNT, dirpath('/data/')), Buffer.alloc(0));
  assert.deepEqual(mounts.list(), [
    { host: '127.0.0.1', path: '/home' },
    { host: '127.0.0.2', path: '/data' },
  ]);
});

test('mount: UMNTALL removes every mount of the calling host only', async () => {
  // Goal: a rebooted client clears its own entries.
  const { mount, mounts } = setup();
  await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data'));
  await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/home'));
  await mount('127.0.0.2', MOUNTPROC3.MNT, dirpath('/data'));
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.UMNTALL), Buffer.alloc(0));
  assert.deepEqual(mounts.list(), [{ host: '127.0.0.2', path: '/data' }]);
});

test('mount: EXPORT lists each export path with its client names', async () => {
  // Goal: exportnode { dirpath ex_dir; groups ex_groups; exports ex_next; } written out by hand.
  const { mount } = setup();
  const str = (text: string) => new XdrWriter().string(text).toBuffer();
  const TRUE = hex('00000001');
  const FALSE = hex('00000000');
  assert.deepEqual(
    await mount('192.168.9.9', MOUNTPROC3.EXPORT),
    Buffer.concat([
      TRUE, str('/data'), TRUE, str('127.0.0.0/8'), TRUE, str('10.1.2.3'), FALSE,
      TRUE, str('/home'), TRUE, str('*'), FALSE,
      FALSE,
    ]),
  );
});

test('mount: MNT is dropped while the export\'s gate drains, and answered after resume', async () => {
  // Goal: a filer being drained hands out no handles (no reply, so the client retries elsewhere).
  const { mount, mounts, data, home } = setup();
  const gate = data.gate as RequestGate;
  assert.deepEqual(await gate.drain(1000), { drained: true, inProgress: 0 });
  assert.equal(await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data')), undefined);
  assert.deepEqual(mounts.list(), []);
  // Another export's gate is independent; an unknown path is still answered NOENT.
  assert.equal((await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/home')))?.readUInt32BE(0), mountstat3.MNT3_OK);
  assert.deepEqual(await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/nope')), hex('00000002'));
  gate.resume();
  assert.equal((await mount('127.0.0.1', MOUNTPROC3.MNT, dirpath('/data')))?.readUInt32BE(0), mountstat3.MNT3_OK);
  assert.equal((home.gate as RequestGate).inProgress, 0);
});
