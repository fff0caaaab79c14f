// Tests for the NFSv3 argument decoders: golden bytes written by hand from RFC 1813's XDR,
// json-pack's independent NFSv3 encoder as an oracle for all 22 procedures, and malformed
// input (every truncation, trailing bytes, bad enums, over-long opaques).

import { test } from 'node:test';
import assert from 'node:assert/strict';

import * as jp from '@jsonjoy.com/json-pack/lib/nfs/v3/index.js';

import type { SetAttributes, Timestamp } from '../storage/types.js';
import type { LookupArgs, SymlinkArgs, WriteArgs } from './types.js';
import { XdrDecodeError, XdrReader } from '../xdr/index.js';
import * as args from './arguments.js';
import { NAME_BYTES_MAX, NAME_WIRE_BYTES_MAX, NFSPROC3, PATH_WIRE_BYTES_MAX, WRITE_BYTES_MAX, WRITE_WIRE_BYTES_MAX } from './constants.js';

type Decoder = (reader: XdrReader) => unknown;

function decode(decoder: Decoder, bytes: Uint8Array): unknown {
  return decoder(new XdrReader(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)));
}

function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

function assertMalformed(decoder: Decoder, bytes: Uint8Array, why: string): void {
  assert.throws(() => decode(decoder, bytes), (error) => error instanceof XdrDecodeError, why);
}

// ---------------------------------------------------------------------------------------------
// Golden bytes, written out from RFC 1813's XDR definitions

test('golden: GETATTR3args is the handle as opaque<64> (length word, bytes, padding)', () => {
  // Goal: nfs_fh3 is a variable-length opaque; an 8-byte handle needs no padding.
  const bytes = hex('00000008 0102030405060708');
  assert.deepEqual(decode(args.decodeGetattrArgs, bytes), { object: hex('0102030405060708') });
});

test('golden: LOOKUP3args pads a 5-byte name with 3 zero bytes', () => {
  // Goal: diropargs3 is nfs_fh3 then filename3, and a string is padded to a 4-byte multiple.
  const bytes = hex(`
    00000004 deadbeef
    00000005 68656c6c 6f000000
  `);
  assert.deepEqual(decode(args.decodeLookupArgs, bytes), { what: { dir: hex('deadbeef'), name: 'hello' } });
});

test('golden: WRITE3args carries offset3 as a hyper, stable_how as an enum and padded data', () => {
  // Goal: the field order and widths of WRITE3args (RFC 1813 3.3.7).
  const bytes = hex(`
    00000004 cafef00d
    00000001 00000002
    00000003
    00000002
    00000003 61626300
  `);
  assert.deepEqual(decode(args.decodeWriteArgs, bytes), {
    file: hex('cafef00d'),
    offset: 0x1_0000_0002n,
    count: 3,
    stable: 'file-sync',
    data: [Buffer.from('abc')],
  });
});

test('golden: SETATTR3args maps set_it flags, time_how and the ctime guard', () => {
  // Goal: sattr3 (RFC 1813 2.6): unset fields are absent, SET_TO_SERVER_TIME is 'now'.
  const bytes = hex(`
    00000004 01020304
    00000001 000001a4
    00000000
    00000001 000003e8
    00000001 00000000 00000000
    00000001
    00000002 5f5e1000 00000007
    00000001 00000064 000000c8
  `);
  assert.deepEqual(decode(args.decodeSetattrArgs, bytes), {
    object: hex('01020304'),
    newAttributes: { mode: 0o644, gid: 1000, size: 0n, atime: 'now', mtime: { seconds: 0x5f5e1000, nanoseconds: 7 } },
    guard: { seconds: 100, nanoseconds: 200 },
  });
});

test('golden: NULL takes no arguments', () => {
  // Goal: NULL's void arguments decode from zero bytes and refuse any byte more.
  assert.equal(decode(args.decodeNullArgs, Buffer.alloc(0)), undefined);
  assertMalformed(args.decodeNullArgs, Buffer.alloc(4), 'NULL with a trailing word');
});

// ---------------------------------------------------------------------------------------------
// json-pack as an independent encoder. It takes RFC numbers, written out here literally.

const HANDLE = hex('0123456789abcdef0123'); // 10 bytes: needs 2 bytes of padding
const HANDLE_MAX = Buffer.alloc(64, 0x5a);
const VERIFIER = hex('0011223344556677');

function fh(handle: Buffer): jp.Nfsv3Fh {
  return new jp.Nfsv3Fh(handle);
}

function dirop(name: string, dir: Buffer = HANDLE): jp.Nfsv3DirOpArgs {
  return new jp.Nfsv3DirOpArgs(fh(dir), name);
}

function jpTime(time: Timestamp): jp.Nfsv3Time {
  return new jp.Nfsv3Time(time.seconds, time.nanoseconds);
}

/** time_how: DONT_CHANGE 0, SET_TO_SERVER_TIME 1, SET_TO_CLIENT_TIME 2. */
function jpTimeHow(time: Timestamp | 'now' | undefined): [number, jp.Nfsv3Time | undefined] {
  if (time === undefined) return [0, undefined];
  if (time === 'now') return [1, undefined];
  return [2, jpTime(time)];
}

function jpSattr(changes: SetAttributes): jp.Nfsv3Sattr {
  const [atimeHow, atime] = jpTimeHow(changes.atime);
  const [mtimeHow, mtime] = jpTimeHow(changes.mtime);
  return new jp.Nfsv3Sattr(
    new jp.Nfsv3SetMode(changes.mode !== undefined, changes.mode),
    new jp.Nfsv3SetUid(changes.uid !== undefined, changes.uid),
    new jp.Nfsv3SetGid(changes.gid !== undefined, changes.gid),
    new jp.Nfsv3SetSize(changes.size !== undefined, changes.size),
    new jp.Nfsv3SetAtime(atimeHow, atime),
    new jp.Nfsv3SetMtime(mtimeHow, mtime),
  );
}

const SATTR_ALL: SetAttributes = {
  mode: 0o4755,
  uid: 1000,
  gid: 100,
  size: 0x1_0000_0000n,
  atime: { seconds: 1_700_000_000, nanoseconds: 123_456_789 },
  mtime: { seconds: 0xffff_ffff, nanoseconds: 999_999_999 },
};
const SATTR_NOW: SetAttributes = { atime: 'now', mtime: 'now' };
const SATTR_NONE: SetAttributes = {};

interface OracleCase {
  readonly name: string;
  readonly proc: number;
  readonly request: jp.Nfsv3Request;
  readonly decoder: Decoder;
  readonly expected: unknown;
}

const ORACLE_CASES: readonly OracleCase[] = [
  {
    name: 'GETATTR',
    proc: NFSPROC3.GETATTR,
    request: new jp.Nfsv3GetattrRequest(fh(HANDLE)),
    decoder: args.decodeGetattrArgs,
    expected: { object: HANDLE },
  },
  {
    name: 'SETATTR with every attribute, client times and a guard',
    proc: NFSPROC3.SETATTR,
    request: new jp.Nfsv3SetattrRequest(fh(HANDLE), jpSattr(SATTR_ALL), new jp.Nfsv3SattrGuard(true, new jp.Nfsv3Time(5, 6))),
    decoder: args.decodeSetattrArgs,
    expected: { object: HANDLE, newAttributes: SATTR_ALL, guard: { seconds: 5, nanoseconds: 6 } },
  },
  {
    name: 'SETATTR with server times and no guard',
    proc: NFSPROC3.SETATTR,
    request: new jp.Nfsv3SetattrRequest(fh(HANDLE_MAX), jpSattr(SATTR_NOW), new jp.Nfsv3SattrGuard(false)),
    decoder: args.decodeSetattrArgs,
    expected: { object: HANDLE_MAX, newAttributes: SATTR_NOW, guard: undefined },
  },
  {
    name: 'LOOKUP',
    proc: NFSPROC3.LOOKUP,
    request: new jp.Nfsv3LookupRequest(dirop('a-name.txt')),
    decoder: args.decodeLookupArgs,
    expected: { what: { dir: HANDLE, name: 'a-name.txt' } },
  },
  {
    name: 'ACCESS',
    proc: NFSPROC3.ACCESS,
    request: new jp.Nfsv3AccessRequest(fh(HANDLE), 0x3f),
    decoder: args.decodeAccessArgs,
    expected: { object: HANDLE, access: 0x3f },
  },
  {
    name: 'READLINK',
    proc: NFSPROC3.READLINK,
    request: new jp.Nfsv3ReadlinkRequest(fh(HANDLE)),
    decoder: args.decodeReadlinkArgs,
    expected: { symlink: HANDLE },
  },
  {
    name: 'READ',
    proc: NFSPROC3.READ,
    request: new jp.Nfsv3ReadRequest(fh(HANDLE), 0xffff_ffff_ffff_fff0n, 65536),
    decoder: args.decodeReadArgs,
    expected: { file: HANDLE, offset: 0xffff_ffff_ffff_fff0n, count: 65536 },
  },
  ...(['unstable', 'data-sync', 'file-sync'] as const).map((stable, stableHow) => ({
    name: `WRITE ${stable}`,
    proc: NFSPROC3.WRITE,
    request: new jp.Nfsv3WriteRequest(fh(HANDLE), 4096n, 5, stableHow, Buffer.from('abcde')),
    decoder: args.decodeWriteArgs,
    expected: { file: HANDLE, offset: 4096n, count: 5, stable, data: [Buffer.from('abcde')] },
  })),
  {
    name: 'WRITE of 4096 bytes',
    proc: NFSPROC3.WRITE,
    request: new jp.Nfsv3WriteRequest(fh(HANDLE), 0n, 4096, 0, Buffer.alloc(4096, 7)),
    decoder: args.decodeWriteArgs,
    expected: { file: HANDLE, offset: 0n, count: 4096, stable: 'unstable', data: [Buffer.alloc(4096, 7)] },
  },
  {
    name: 'CREATE UNCHECKED',
    proc: NFSPROC3.CREATE,
    request: new jp.Nfsv3CreateRequest(dirop('new'), new jp.Nfsv3CreateHow(0, jpSattr(SATTR_ALL))),
    decoder: args.decodeCreateArgs,
    expected: { where: { dir: HANDLE, name: 'new' }, how: { mode: 'unchecked', attributes: SATTR_ALL } },
  },
  {
    name: 'CREATE GUARDED',
    proc: NFSPROC3.CREATE,
    request: new jp.Nfsv3CreateRequest(dirop('new'), new jp.Nfsv3CreateHow(1, jpSattr(SATTR_NONE))),
    decoder: args.decodeCreateArgs,
    expected: { where: { dir: HANDLE, name: 'new' }, how: { mode: 'guarded', attributes: SATTR_NONE } },
  },
  {
    name: 'CREATE EXCLUSIVE',
    proc: NFSPROC3.CREATE,
    request: new jp.Nfsv3CreateRequest(dirop('new'), new jp.Nfsv3CreateHow(2, undefined, VERIFIER)),
    decoder: args.decodeCreateArgs,
    expected: { where: { dir: HANDLE, name: 'new' }, how: { mode: 'exclusive', verifier: VERIFIER } },
  },
  {
    name: 'MKDIR',
    proc: NFSPROC3.MKDIR,
    request: new jp.Nfsv3MkdirRequest(dirop('sub'), jpSattr({ mode: 0o755 })),
    decoder: args.decodeMkdirArgs,
    expected: { where: { dir: HANDLE, name: 'sub' }, attributes: { mode: 0o755 } },
  },
  {
    name: 'SYMLINK',
    proc: NFSPROC3.SYMLINK,
    request: new jp.Nfsv3SymlinkRequest(dirop('link'), jpSattr(SATTR_NOW), '../some/target'),
    decoder: args.decodeSymlinkArgs,
    expected: { where: { dir: HANDLE, name: 'link' }, symlinkAttributes: SATTR_NOW, symlinkData: '../some/target' },
  },
  {
    name: 'MKNOD NF3CHR',
    proc: NFSPROC3.MKNOD,
    request: new jp.Nfsv3MknodRequest(
      dirop('tty'),
      new jp.Nfsv3MknodData(4, new jp.Nfsv3DeviceData(jpSattr({ mode: 0o620 }), new jp.Nfsv3SpecData(4, 1))),
    ),
    decoder: args.decodeMknodArgs,
    expected: {
      where: { dir: HANDLE, name: 'tty' },
      what: { type: 'chr', attributes: { mode: 0o620 }, rdev: { major: 4, minor: 1 } },
    },
  },
  {
    name: 'MKNOD NF3BLK',
    proc: NFSPROC3.MKNOD,
    request: new jp.Nfsv3MknodRequest(
      dirop('sda'),
      new jp.Nfsv3MknodData(3, undefined, new jp.Nfsv3DeviceData(jpSattr(SATTR_NONE), new jp.Nfsv3SpecData(8, 0))),
    ),
    decoder: args.decodeMknodArgs,
    expected: {
      where: { dir: HANDLE, name: 'sda' },
      what: { type: 'blk', attributes: SATTR_NONE, rdev: { major: 8, minor: 0 } },
    },
  },
  {
    name: 'MKNOD NF3SOCK',
    proc: NFSPROC3.MKNOD,
    request: new jp.Nfsv3MknodRequest(dirop('sock'), new jp.Nfsv3MknodData(6, undefined, undefined, jpSattr({ uid: 0 }))),
    decoder: args.decodeMknodArgs,
    expected: { where: { dir: HANDLE, name: 'sock' }, what: { type: 'sock', attributes: { uid: 0 } } },
  },
  {
    name: 'MKNOD NF3FIFO',
    proc: NFSPROC3.MKNOD,
    request: new jp.Nfsv3MknodRequest(
      dirop('pipe'),
      new jp.Nfsv3MknodData(7, undefined, undefined, undefined, jpSattr({ mode: 0o600 })),
    ),
    decoder: args.decodeMknodArgs,
    expected: { where: { dir: HANDLE, name: 'pipe' }, what: { type: 'fifo', attributes: { mode: 0o600 } } },
  },
  ...([
    [1, 'reg'],
    [2, 'dir'],
    [5, 'lnk'],
  ] as const).map(([ftype, type]) => ({
    name: `MKNOD of type ${type} decodes so the handler can answer NFS3ERR_BADTYPE`,
    proc: NFSPROC3.MKNOD,
    request: new jp.Nfsv3MknodRequest(dirop('x'), new jp.Nfsv3MknodData(ftype)),
    decoder: args.decodeMknodArgs,
    expected: { where: { dir: HANDLE, name: 'x' }, what: { type } },
  })),
  {
    name: 'REMOVE',
    proc: NFSPROC3.REMOVE,
    request: new jp.Nfsv3RemoveRequest(dirop('old')),
    decoder: args.decodeRemoveArgs,
    expected: { object: { dir: HANDLE, name: 'old' } },
  },
  {
    name: 'RMDIR',
    proc: NFSPROC3.RMDIR,
    request: new jp.Nfsv3RmdirRequest(dirop('olddir')),
    decoder: args.decodeRmdirArgs,
    expected: { object: { dir: HANDLE, name: 'olddir' } },
  },
  {
    name: 'RENAME',
    proc: NFSPROC3.RENAME,
    request: new jp.Nfsv3RenameRequest(dirop('from'), dirop('to-name', HANDLE_MAX)),
    decoder: args.decodeRenameArgs,
    expected: { from: { dir: HANDLE, name: 'from' }, to: { dir: HANDLE_MAX, name: 'to-name' } },
  },
  {
    name: 'LINK',
    proc: NFSPROC3.LINK,
    request: new jp.Nfsv3LinkRequest(fh(HANDLE_MAX), dirop('hard')),
    decoder: args.decodeLinkArgs,
    expected: { file: HANDLE_MAX, link: { dir: HANDLE, name: 'hard' } },
  },
  {
    name: 'READDIR',
    proc: NFSPROC3.READDIR,
    request: new jp.Nfsv3ReaddirRequest(fh(HANDLE), 0x1122_3344_5566_7788n, VERIFIER, 4096),
    decoder: args.decodeReaddirArgs,
    expected: { dir: HANDLE, cookie: 0x1122_3344_5566_7788n, cookieverf: VERIFIER, count: 4096 },
  },
  {
    name: 'READDIRPLUS',
    proc: NFSPROC3.READDIRPLUS,
    request: new jp.Nfsv3ReaddirplusRequest(fh(HANDLE), 0n, Buffer.alloc(8), 1024, 8192),
    decoder: args.decodeReaddirplusArgs,
    expected: { dir: HANDLE, cookie: 0n, cookieverf: Buffer.alloc(8), dircount: 1024, maxcount: 8192 },
  },
  {
    name: 'FSSTAT',
    proc: NFSPROC3.FSSTAT,
    request: new jp.Nfsv3FsstatRequest(fh(HANDLE)),
    decoder: args.decodeFsstatArgs,
    expected: { fsroot: HANDLE },
  },
  {
    name: 'FSINFO',
    proc: NFSPROC3.FSINFO,
    request: new jp.Nfsv3FsinfoRequest(fh(HANDLE)),
    decoder: args.decodeFsinfoArgs,
    expected: { fsroot: HANDLE },
  },
  {
    name: 'PATHCONF',
    proc: NFSPROC3.PATHCONF,
    request: new jp.Nfsv3PathconfRequest(fh(HANDLE)),
    decoder: args.decodePathconfArgs,
    expected: { object: HANDLE },
  },
  {
    name: 'COMMIT',
    proc: NFSPROC3.COMMIT,
    request: new jp.Nfsv3CommitRequest(fh(HANDLE), 1n << 40n, 0),
    decoder: args.decodeCommitArgs,
    expected: { file: HANDLE, offset: 1n << 40n, count: 0 },
  },
];

function jpEncode(oracleCase: OracleCase): Buffer {
  const encoded = new jp.Nfsv3Encoder().encodeMessage(oracleCase.request, oracleCase.proc as jp.Nfsv3Proc, true);
  return Buffer.from(encoded); // a copy: json-pack's writer reuses its buffer
}

test('oracle: every procedure but NULL has a json-pack case', () => {
  // Goal: keep the table below complete; NULL has no json-pack codec and is covered by golden bytes.
  const covered = new Set(ORACLE_CASES.map((oracleCase) => oracleCase.proc));
  const missing = Object.entries(NFSPROC3).filter(([name, proc]) => name !== 'NULL' && !covered.has(proc));
  assert.deepEqual(missing, []);
  const nullRequest = new jp.Nfsv3GetattrRequest(fh(HANDLE));
  assert.throws(() => new jp.Nfsv3Encoder().encodeMessage(nullRequest, NFSPROC3.NULL as jp.Nfsv3Proc, true), /Unknown procedure/);
});

for (const oracleCase of ORACLE_CASES) {
  test(`oracle: ${oracleCase.name} arguments encoded by json-pack decode field by field`, () => {
    // Goal: an independent encoder and ours agree on every field.
    assert.deepStrictEqual(decode(oracleCase.decoder, jpEncode(oracleCase)), oracleCase.expected);
  });
}

// ---------------------------------------------------------------------------------------------
// Malformed input

const MALFORMED_SOURCES: readonly { readonly name: string; readonly decoder: Decoder; readonly bytes: Buffer }[] =
  ORACLE_CASES.map((oracleCase) => ({ name: oracleCase.name, decoder: oracleCase.decoder, bytes: jpEncode(oracleCase) }));

for (const source of MALFORMED_SOURCES) {
  test(`malformed: every truncation of ${source.name} is an XdrDecodeError`, () => {
    // Goal: a short record can only raise the decode error that becomes GARBAGE_ARGS.
    for (let length = 0; length < source.bytes.length; length++) {
      assertMalformed(source.decoder, source.bytes.subarray(0, length), `${length} of ${source.bytes.length} bytes`);
    }
  });

  test(`malformed: ${source.name} with trailing bytes is an XdrDecodeError`, () => {
    // Goal: decoders call reader.end(), so a longer record is not silently accepted.
    assertMalformed(source.decoder, Buffer.concat([source.bytes, Buffer.alloc(4)]), 'one extra word');
    assertMalformed(source.decoder, Buffer.concat([source.bytes, Buffer.alloc(1)]), 'one extra byte');
  });
}

/** A well-formed diropargs3 prefix: the 4-byte handle 01020304 and the name "n". */
const DIROP = '00000004 01020304 00000001 6e000000';
/** sattr3 with nothing set and both times DONT_CHANGE. */
const SATTR_EMPTY = '00000000 00000000 00000000 00000000 00000000 00000000';

test('malformed: an out-of-range time_how is an XdrDecodeError', () => {
  // Goal: set_atime and set_mtime switch on time_how, which has only the values 0, 1 and 2.
  assertMalformed(args.decodeMkdirArgs, hex(`${DIROP} 00000000 00000000 00000000 00000000 00000003 00000000`), 'atime 3');
  assertMalformed(args.decodeMkdirArgs, hex(`${DIROP} 00000000 00000000 00000000 00000000 00000000 ffffffff`), 'mtime -1');
});

test('malformed: an out-of-range stable_how is an XdrDecodeError', () => {
  // Goal: WRITE's stable field accepts UNSTABLE, DATA_SYNC and FILE_SYNC only.
  assertMalformed(args.decodeWriteArgs, hex('00000004 01020304 0000000000000000 00000000 00000003 00000000'), 'stable 3');
});

test('malformed: an out-of-range createmode3 is an XdrDecodeError', () => {
  // Goal: createhow3 switches on UNCHECKED, GUARDED and EXCLUSIVE only.
  assertMalformed(args.decodeCreateArgs, hex(`${DIROP} 00000003 ${SATTR_EMPTY}`), 'createmode 3');
});

test('malformed: an MKNOD type outside ftype3 is an XdrDecodeError', () => {
  // Goal: 0 and 8 are not ftype3 values, so unlike NF3REG they are garbage, not NFS3ERR_BADTYPE.
  assertMalformed(args.decodeMknodArgs, hex(`${DIROP} 00000000`), 'ftype 0');
  assertMalformed(args.decodeMknodArgs, hex(`${DIROP} 00000008`), 'ftype 8');
});

test('malformed: a bool other than 0 or 1 is an XdrDecodeError', () => {
  // Goal: set_it and the guard's check are XDR bools (RFC 4506 4.4).
  assertMalformed(args.decodeMkdirArgs, hex(`${DIROP} 00000002 00000000 00000000 00000000 00000000 00000000`), 'set_it 2');
  assertMalformed(args.decodeSetattrArgs, hex(`00000004 01020304 ${SATTR_EMPTY} 00000002`), 'check 2');
});

test('malformed: a 65-byte handle is an XdrDecodeError and a 64-byte one decodes', () => {
  // Goal: nfs_fh3 is opaque<NFS3_FHSIZE> with NFS3_FHSIZE 64.
  const handle65 = Buffer.concat([hex('00000041'), Buffer.alloc(65, 1), Buffer.alloc(3)]);
  assertMalformed(args.decodeGetattrArgs, handle65, '65-byte handle');
  const handle64 = Buffer.concat([hex('00000040'), Buffer.alloc(64, 1)]);
  assert.deepEqual(decode(args.decodeGetattrArgs, handle64), { object: Buffer.alloc(64, 1) });
});

function lookupWithName(nameBytes: number): Buffer {
  const name = Buffer.alloc(nameBytes + ((4 - (nameBytes % 4)) % 4), 0x61);
  const length = Buffer.alloc(4);
  length.writeUInt32BE(nameBytes);
  return Buffer.concat([hex('00000004 01020304'), length, name]);
}

test('names: a 256-byte name decodes so the handler can answer NFS3ERR_NAMETOOLONG', () => {
  // Goal: RFC 1813 asks for NFS3ERR_NAMETOOLONG, not GARBAGE_ARGS, for a name over the limit.
  const decoded = decode(args.decodeLookupArgs, lookupWithName(NAME_BYTES_MAX + 1)) as LookupArgs;
  assert.equal(decoded.what.name.length, 256);
  assertMalformed(args.decodeLookupArgs, lookupWithName(NAME_WIRE_BYTES_MAX + 1), 'name over the wire bound');
});

test('names: a symlink target over PATH_BYTES_MAX decodes up to the wire bound', () => {
  // Goal: nfspath3 is string<>; the handler checks PATH_BYTES_MAX, the decoder only the wire bound.
  const target = (bytes: number): Buffer => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes);
    return Buffer.concat([hex(`${DIROP} ${SATTR_EMPTY}`), length, Buffer.alloc(bytes, 0x2f)]);
  };
  const decoded = decode(args.decodeSymlinkArgs, target(2048)) as SymlinkArgs;
  assert.equal(decoded.symlinkData.length, 2048);
  assertMalformed(args.decodeSymlinkArgs, target(PATH_WIRE_BYTES_MAX + 4), 'target over the wire bound');
});

test('names: bytes that are not UTF-8 round-trip as latin1 code units', () => {
  // Goal: filename3 is bytes (RFC 1813 2.5); 0xff and 0xe9 must survive to storage unchanged.
  const decoded = decode(args.decodeLookupArgs, hex('00000004 01020304 00000002 ffe90000')) as LookupArgs;
  assert.equal(decoded.what.name, '\u00ff\u00e9');
  assert.deepEqual(Buffer.from(decoded.what.name, 'latin1'), hex('ffe9'));
});

test('write: data over WRITE_BYTES_MAX decodes as a view (a short write) and over the wire bound is malformed', () => {
  // Goal: WRITE data beyond wtmax is well-formed XDR left to the handler (RFC 1813 3.3.7: it
  // writes short); only data beyond WRITE_WIRE_BYTES_MAX is garbage; data is never copied.
  const header = hex('00000004 01020304 0000000000000000 00100000 00000000');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(WRITE_BYTES_MAX + 4096);
  const record = Buffer.concat([header, length, Buffer.alloc(WRITE_BYTES_MAX + 4096, 9)]);
  const decoded = decode(args.decodeWriteArgs, record) as WriteArgs;
  assert.equal(decoded.data.length, 1, 'one view');
  assert.equal(decoded.data[0]!.length, WRITE_BYTES_MAX + 4096);
  assert.equal(decoded.data[0]!.buffer, record.buffer);
  assert.equal(decoded.data[0]!.byteOffset, record.byteOffset + header.length + 4);
  length.writeUInt32BE(WRITE_WIRE_BYTES_MAX + 1);
  assertMalformed(args.decodeWriteArgs, Buffer.concat([header, length, Buffer.alloc(WRITE_WIRE_BYTES_MAX + 4)]), 'wire bound + 1');
});

test('write: a count that differs from the data length is passed on for the handler', () => {
  // Goal: the decoder reports both values; RFC 1813 3.3.7 leaves the mismatch to the server.
  const decoded = decode(args.decodeWriteArgs, hex('00000004 01020304 0000000000000000 00000009 00000001 00000002 68690000'));
  assert.deepEqual(decoded, { file: hex('01020304'), offset: 0n, count: 9, stable: 'data-sync', data: [Buffer.from('hi')] });
});

test('names: json-pack sends a JavaScript string as UTF-8 and we keep its bytes', () => {
  // Goal: filename3 is bytes on the wire (RFC 1813 2.5). json-pack's model is UTF-8 text, ours
  // is one latin1 code unit per byte, so 'café' arrives as its 5 UTF-8 bytes, unchanged.
  const request = new jp.Nfsv3LookupRequest(dirop('café'));
  const encoded = jpEncode({ name: 'UTF-8 name', proc: NFSPROC3.LOOKUP, request, decoder: args.decodeLookupArgs, expected: 0 });
  const decoded = decode(args.decodeLookupArgs, encoded) as LookupArgs;
  assert.deepEqual(Buffer.from(decoded.what.name, 'latin1'), Buffer.from('café', 'utf8'));
  assert.equal(decoded.what.name.length, 5);
});
