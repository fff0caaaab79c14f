// Integration: malformed and hostile input against a real `tandem serve` process on loopback.
// Each case asserts the exact reply the code defines (src/rpc/message.ts, dispatcher.ts and the
// NFS procedures), and the last test checks that the server survived all of it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TandemProcess } from '../support/processes.js';
import { serveFreshVolume, type ServedVolume } from '../support/served-volume.js';
import { residentBytes } from '../support/memory.js';
import {
  encodeNfsArgs,
  MOUNT_PROGRAM,
  NFS_PROGRAM,
  NFS_VERSION,
  NfsClient,
  nextXid,
  ROOT,
  RpcClient,
  recordOf,
  encodeCall,
  UNSTABLE,
  withDeadline,
  entriesOf,
  type CallCredential,
} from '../support/rpc-client.js';
import { Nfsv3GetattrRequest } from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import { Nfsv3Fh } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { RPC_VERSION, accept_stat, auth_flavor, auth_stat, msg_type, reject_stat, reply_stat } from '../../src/rpc/constants.js';
import { nfsstat3 } from '../../src/nfs3/constants.js';

const MiB = 1024 * 1024;
const RESIDENT_BYTES_MAX = 300 * MiB;
const GETATTR = 1;

let served: ServedVolume;
let server: TandemProcess;
let client: NfsClient;
let root: Buffer;

before(async () => {
  served = await serveFreshVolume('bad');
  ({ server, client, root } = served);
});

after(() => served?.stop());

/** XDR words, for exact replies. */
function words(...values: number[]): Buffer {
  const bytes = Buffer.alloc(values.length * 4);
  values.forEach((value, index) => bytes.writeUInt32BE(value >>> 0, index * 4));
  return bytes;
}

/** The whole reply of an accepted call that was not executed: header and accept_stat. */
function acceptedReply(xid: number, stat: number, ...rest: number[]): Buffer {
  return words(xid, msg_type.REPLY, reply_stat.MSG_ACCEPTED, auth_flavor.AUTH_NONE, 0, stat, ...rest);
}

/** One call with raw arguments on the shared connection; resolves with its reply's bytes. */
function rawCall(
  program: number,
  version: number,
  procedure: number,
  args: Uint8Array,
  xid: number,
  credential: CallCredential = ROOT,
): Promise<Buffer> {
  return client.rpc.call({ program, version, procedure, xid, credential, args });
}

test('record marking: a record marker claiming 2 GiB closes that connection, and a new connection still works', async () => {
  // Goal: a peer cannot make the server buffer a huge record: it loses its connection, nobody else does.
  const hostile = await RpcClient.connect('127.0.0.1', server.port);
  hostile.sendRaw(words(0xffff_ffff));
  await withDeadline(hostile.closed, 10_000, 'server closing a connection that claimed a 2 GiB record');
  const fresh = await NfsClient.connect(server.port);
  await fresh.null();
  await fresh.close();
});

test('rpc header: a record of 7 bytes is dropped without a reply and the connection goes on', async () => {
  // Goal: a record too short to hold an xid cannot be answered; message.ts drops it and reads on.
  const connection = await RpcClient.connect('127.0.0.1', server.port);
  const xid = nextXid();
  // parseCall: fewer than 8 bytes hold no xid and message type: nothing can be answered.
  const garbage = recordOf(Buffer.from([1, 2, 3, 4, 0, 0, 0]));
  const nullCall = recordOf(encodeCall({ program: NFS_PROGRAM, version: NFS_VERSION, procedure: 0, xid, args: new Uint8Array(0) }));
  connection.sendRaw(Buffer.concat([garbage, nullCall]));
  assert.deepEqual(await connection.nextRecord(), acceptedReply(xid, accept_stat.SUCCESS));
  await connection.close();
});

test('rpc header: a record holding only xid, CALL and rpcvers gets GARBAGE_ARGS', async () => {
  // Goal: a call header cut after rpcvers has an xid to answer, so it gets GARBAGE_ARGS (message.ts).
  const connection = await RpcClient.connect('127.0.0.1', server.port);
  const xid = nextXid();
  connection.sendRaw(recordOf(words(xid, msg_type.CALL, RPC_VERSION)));
  assert.deepEqual(await connection.nextRecord(), acceptedReply(xid, accept_stat.GARBAGE_ARGS));
  await connection.close();
});

test('rpc header: RPC version 3 gets MSG_DENIED RPC_MISMATCH with low 2 and high 2', async () => {
  // Goal: RFC 5531 9: a wrong RPC version is refused with the range the server speaks.
  const connection = await RpcClient.connect('127.0.0.1', server.port);
  const xid = nextXid();
  const call = encodeCall({ program: NFS_PROGRAM, version: NFS_VERSION, procedure: 0, xid, args: new Uint8Array(0) });
  call.writeUInt32BE(3, 8);
  connection.sendRaw(recordOf(call));
  assert.deepEqual(
    await connection.nextRecord(),
    words(xid, msg_type.REPLY, reply_stat.MSG_DENIED, reject_stat.RPC_MISMATCH, RPC_VERSION, RPC_VERSION),
  );
  await connection.close();
});

test('rpc dispatch: an unknown program (123456) gets PROG_UNAVAIL', async () => {
  // Goal: RFC 5531 9: a program the server does not serve is PROG_UNAVAIL.
  const xid = nextXid();
  assert.deepEqual(await rawCall(123456, 1, 0, new Uint8Array(0), xid), acceptedReply(xid, accept_stat.PROG_UNAVAIL));
});

test('rpc dispatch: NFS versions 4 and 2 get PROG_MISMATCH with low 3 and high 3', async () => {
  // Goal: RFC 5531 9: an NFS version other than 3 is refused with the range 3..3.
  for (const version of [4, 2]) {
    const xid = nextXid();
    const reply = await rawCall(NFS_PROGRAM, version, 0, new Uint8Array(0), xid);
    assert.deepEqual(reply, acceptedReply(xid, accept_stat.PROG_MISMATCH, 3, 3), `version ${version}`);
  }
});

test('rpc dispatch: NFS procedure 22 gets PROC_UNAVAIL', async () => {
  // Goal: RFC 5531 9: a procedure number past COMMIT (21) is PROC_UNAVAIL.
  const xid = nextXid();
  assert.deepEqual(await rawCall(NFS_PROGRAM, NFS_VERSION, 22, new Uint8Array(0), xid), acceptedReply(xid, accept_stat.PROC_UNAVAIL));
});

test('rpc dispatch: MOUNT version 1 gets PROG_MISMATCH with low 3 and high 3', async () => {
  // Goal: RFC 5531 9: MOUNT version 1 is refused with the range 3..3.
  const xid = nextXid();
  assert.deepEqual(await rawCall(MOUNT_PROGRAM, 1, 0, new Uint8Array(0), xid), acceptedReply(xid, accept_stat.PROG_MISMATCH, 3, 3));
});

test('credentials: AUTH_DH gets MSG_DENIED AUTH_ERROR AUTH_BADCRED', async () => {
  // Goal: credentials.ts: only AUTH_NONE and AUTH_SYS are accepted; AUTH_DH is a bad credential.
  const xid = nextXid();
  const credential = { flavor: auth_flavor.AUTH_DH, body: randomBytes(32) };
  assert.deepEqual(
    await rawCall(NFS_PROGRAM, NFS_VERSION, 0, new Uint8Array(0), xid, credential),
    words(xid, msg_type.REPLY, reply_stat.MSG_DENIED, reject_stat.AUTH_ERROR, auth_stat.AUTH_BADCRED),
  );
});

test('credentials: AUTH_SYS with 17 gids gets AUTH_BADCRED, and 16 gids are accepted', async () => {
  // Goal: RFC 5531 14: authsys_parms holds at most 16 gids; one more is a bad credential, 16 are fine.
  const gids = (count: number) => Array.from({ length: count }, (_, index) => 100 + index);
  const xid = nextXid();
  const args = encodeNfsArgs(GETATTR, new Nfsv3GetattrRequest(new Nfsv3Fh(root)));
  assert.deepEqual(
    await rawCall(NFS_PROGRAM, NFS_VERSION, GETATTR, args, xid, { uid: 1000, gid: 1000, gids: gids(17) }),
    words(xid, msg_type.REPLY, reply_stat.MSG_DENIED, reject_stat.AUTH_ERROR, auth_stat.AUTH_BADCRED),
  );
  const accepted = await client.as({ uid: 1000, gid: 1000, gids: gids(16) }).getattr(root);
  assert.equal(accepted.status, nfsstat3.NFS3_OK);
});

test('arguments: GETATTR truncated, with trailing bytes, or with a 65-byte handle gets GARBAGE_ARGS', async () => {
  // Goal: arguments.ts: GETATTR3args must be exactly one nfs_fh3 of at most 64 bytes.
  const whole = encodeNfsArgs(GETATTR, new Nfsv3GetattrRequest(new Nfsv3Fh(root)));
  const cases: [string, Buffer][] = [
    ['truncated', whole.subarray(0, whole.length - 8)],
    ['trailing bytes', Buffer.concat([whole, words(0)])],
    ['65-byte handle', Buffer.concat([words(65), Buffer.alloc(68, 1)])],
  ];
  for (const [what, args] of cases) {
    const xid = nextXid();
    assert.deepEqual(await rawCall(NFS_PROGRAM, NFS_VERSION, GETATTR, args, xid), acceptedReply(xid, accept_stat.GARBAGE_ARGS), what);
  }
  // The same call, whole, is answered: the garbage was in the bytes cut or added.
  assert.equal((await client.getattr(root)).status, nfsstat3.NFS3_OK);
});

test("names: an empty name, 'a/b' and 'a\\0b' get NFS3ERR_ACCES from LOOKUP and CREATE", async () => {
  // Goal: RFC 1813 3.2 and checkName: names that cannot be POSIX names are refused with ACCES.
  for (const name of ['', 'a/b', 'a\0b']) {
    assert.equal((await client.lookup(root, name)).status, nfsstat3.NFS3ERR_ACCES, `LOOKUP ${JSON.stringify(name)}`);
    assert.equal((await client.create(root, name)).status, nfsstat3.NFS3ERR_ACCES, `CREATE ${JSON.stringify(name)}`);
  }
});

test('names: a name of 256 bytes gets NFS3ERR_NAMETOOLONG, and one of 255 bytes can be created', async () => {
  // Goal: NAME_BYTES_MAX (255) is a limit on names, not on the wire: one byte more is NAMETOOLONG.
  assert.equal((await client.lookup(root, 'n'.repeat(256))).status, nfsstat3.NFS3ERR_NAMETOOLONG);
  assert.equal((await client.create(root, 'n'.repeat(256))).status, nfsstat3.NFS3ERR_NAMETOOLONG);
  const created = await client.create(root, 'n'.repeat(255));
  assert.equal(created.status, nfsstat3.NFS3_OK);
  assert.equal((await client.lookup(root, 'n'.repeat(255))).status, nfsstat3.NFS3_OK);
});

test("names: CREATE of '.' and '..' gets NFS3ERR_EXIST", async () => {
  // Goal: '.' and '..' always exist, so creating them fails with EXIST.
  assert.equal((await client.create(root, '.')).status, nfsstat3.NFS3ERR_EXIST);
  assert.equal((await client.create(root, '..')).status, nfsstat3.NFS3ERR_EXIST);
});

test("names: RMDIR '.' gets NFS3ERR_INVAL and RMDIR '..' NFS3ERR_NOTEMPTY, and both directories stay", async () => {
  // Goal: rmdir(2) on Linux: '.' is EINVAL and '..' ENOTEMPTY; neither removes anything.
  const outer = await client.makeDirectory(root, 'rmdir-dots');
  const inner = await client.makeDirectory(outer, 'inner');
  assert.equal((await client.rmdir(inner, '.')).status, nfsstat3.NFS3ERR_INVAL);
  assert.equal((await client.rmdir(inner, '..')).status, nfsstat3.NFS3ERR_NOTEMPTY);
  assert.equal((await client.getattr(inner)).status, nfsstat3.NFS3_OK);
  assert.equal((await client.getattr(outer)).status, nfsstat3.NFS3_OK);
});

test("names: RENAME from '.' gets NFS3ERR_INVAL", async () => {
  // Goal: '.' cannot be moved: RENAME from it is INVAL and creates nothing.
  const directory = await client.makeDirectory(root, 'rename-dot');
  assert.equal((await client.rename(directory, '.', root, 'renamed-dot')).status, nfsstat3.NFS3ERR_INVAL);
  assert.equal((await client.lookup(root, 'renamed-dot')).status, nfsstat3.NFS3ERR_NOENT);
});

test("names: LOOKUP '..' at the export root returns the root handle", async () => {
  // Goal: a client cannot walk out of an export: '..' of the root is the root.
  const result = await client.lookup(root, '..');
  assert.equal(result.status, nfsstat3.NFS3_OK);
  assert.deepEqual(Buffer.from(result.resok!.object.data), root);
});

test('sizes: READ of 2 MiB (above rtmax) from a 3 MiB file returns exactly 1 MiB, short', async () => {
  // Goal: RFC 1813 3.3.6: a READ above rtmax is served short, at rtmax, with the right bytes.
  const file = await client.createFile(root, 'three-mib');
  const data = randomBytes(3 * MiB);
  for (let offset = 0; offset < data.length; offset += MiB) {
    const written = await client.write(file, BigInt(offset), data.subarray(offset, offset + MiB), UNSTABLE);
    assert.equal(written.resok?.count, MiB);
  }
  assert.equal((await client.commit(file)).status, nfsstat3.NFS3_OK);
  const read = await client.read(file, 0n, 2 * MiB);
  assert.equal(read.status, nfsstat3.NFS3_OK);
  assert.equal(read.resok!.count, MiB);
  assert.equal(read.resok!.eof, false);
  assert.ok(Buffer.from(read.resok!.data).equals(data.subarray(0, MiB)), 'the first MiB comes back');
});

test('sizes: WRITE of 1 MiB + 4 KiB (within the record limit) writes 1 MiB, short', async () => {
  // Goal: RFC 1813 3.3.7: a WRITE above wtmax that fits in a record is written short, at wtmax.
  const file = await client.createFile(root, 'short-write');
  const data = randomBytes(MiB + 4096);
  const written = await client.write(file, 0n, data);
  assert.equal(written.status, nfsstat3.NFS3_OK);
  assert.equal(written.resok!.count, MiB);
  const attributes = await client.getattr(file);
  assert.equal(attributes.resok!.objAttributes.size, BigInt(MiB));
  const read = await client.read(file, 0n, MiB);
  assert.ok(Buffer.from(read.resok!.data).equals(data.subarray(0, MiB)), 'the first MiB was written');
});

test('sizes: WRITE whose count differs from its data length gets NFS3ERR_INVAL and writes nothing', async () => {
  // Goal: RFC 1813 3.3.7: count must equal the data length; a mismatch is INVAL and writes nothing.
  const file = await client.createFile(root, 'count-mismatch');
  const result = await client.write(file, 0n, Buffer.alloc(8, 7), undefined, 12);
  assert.equal(result.status, nfsstat3.NFS3ERR_INVAL);
  assert.equal((await client.getattr(file)).resok!.objAttributes.size, 0n);
});

test('cookies: READDIR with a cookie from a listing and an altered cookieverf gets NFS3ERR_BAD_COOKIE', async () => {
  // Goal: a cookie presented with a cookieverf that is not this directory's is BAD_COOKIE.
  const directory = await client.makeDirectory(root, 'cookies');
  for (let i = 0; i < 20; i++) await client.createFile(directory, `entry-${i}`);
  const first = await client.readdir(directory, 0n, new Uint8Array(8), 300);
  assert.equal(first.status, nfsstat3.NFS3_OK);
  assert.equal(first.resok!.reply.eof, false);
  const cookie = entriesOf(first).at(-1)!.cookie;
  const verifier = Buffer.from(first.resok!.cookieverf);
  assert.ok(verifier.some((byte) => byte !== 0), 'the server hands out a non-zero cookieverf');
  const altered = Buffer.from(verifier);
  altered[0] = altered[0]! ^ 0x01;
  assert.equal((await client.readdir(directory, cookie, altered, 300)).status, nfsstat3.NFS3ERR_BAD_COOKIE);
  // The cookieverf as given continues the listing.
  assert.equal((await client.readdir(directory, cookie, verifier, 300)).status, nfsstat3.NFS3_OK);
});

test('handles: forged, truncated or foreign handles get NFS3ERR_BADHANDLE or NFS3ERR_STALE, never attributes', async () => {
  // Goal: handles are unforgeable: any altered or foreign handle is refused, never resolved to a file.
  const victim = await client.createFile(root, 'victim');
  const other = await client.createFile(root, 'other');
  assert.equal(victim.length, 45, 'handle layout: format, volume id, fileid, generation, tag');
  const flip = (handle: Buffer, byte: number): Buffer => {
    const copy = Buffer.from(handle);
    copy[byte] = copy[byte]! ^ 0x01;
    return copy;
  };
  const otherFileid = Buffer.from(victim);
  other.copy(otherFileid, 17, 17, 25);
  const foreignVolume = Buffer.from(victim);
  randomBytes(16).copy(foreignVolume, 1);
  // file-handles.ts: an altered or malformed handle of ours is 'bad-handle'; nfs-procedure.ts:
  // a handle that is not of our format is BADHANDLE; a volume not exported here is STALE.
  const cases: [string, Buffer, number][] = [
    ['a bit flipped in the tag', flip(victim, 44), nfsstat3.NFS3ERR_BADHANDLE],
    ['a bit flipped in the fileid', flip(victim, 24), nfsstat3.NFS3ERR_BADHANDLE],
    ["another file's fileid under this tag", otherFileid, nfsstat3.NFS3ERR_BADHANDLE],
    ['a bit flipped in the generation', flip(victim, 28), nfsstat3.NFS3ERR_BADHANDLE],
    ['truncated to 44 bytes', victim.subarray(0, 44), nfsstat3.NFS3ERR_BADHANDLE],
    ['truncated to 10 bytes', victim.subarray(0, 10), nfsstat3.NFS3ERR_BADHANDLE],
    ['empty', Buffer.alloc(0), nfsstat3.NFS3ERR_BADHANDLE],
    ['of another format', flip(victim, 0), nfsstat3.NFS3ERR_BADHANDLE],
    ['of an unknown volume id', foreignVolume, nfsstat3.NFS3ERR_STALE],
  ];
  for (const [what, handle, expected] of cases) {
    const attributes = await client.getattr(handle);
    assert.equal(attributes.status, expected, `GETATTR of a handle ${what}`);
    assert.equal(attributes.resok, undefined, `GETATTR of a handle ${what}: no attributes`);
    const read = await client.read(handle, 0n, 16);
    assert.equal(read.status, expected, `READ of a handle ${what}`);
    assert.equal(read.resok, undefined);
  }
  assert.equal((await client.remove(root, 'victim')).status, nfsstat3.NFS3_OK);
  const removed = await client.getattr(victim);
  assert.equal(removed.status, nfsstat3.NFS3ERR_STALE, 'GETATTR of a removed file');
  assert.equal((await client.getattr(other)).status, nfsstat3.NFS3_OK, 'the other file is untouched');
});

test('survival: after all of this the server is alive, answers NULL, and its memory stays bounded', async () => {
  // Goal: the server outlives everything above, still answering and within a sane memory bound.
  assert.equal(server.child.exitCode, null, `server exited:\n${server.stderr}`);
  await client.null();
  const fresh = await NfsClient.connect(server.port);
  await fresh.null();
  await fresh.close();
  const resident = await residentBytes(server.child.pid!);
  assert.ok(resident < RESIDENT_BYTES_MAX, `resident set ${Math.round(resident / MiB)} MiB, bound ${RESIDENT_BYTES_MAX / MiB} MiB`);
});
