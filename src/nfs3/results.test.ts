// Tests for the NFSv3 result encoders: golden bytes written by hand from RFC 1813's XDR,
// zero-copy READ data, the READDIR size helpers and the programmer-error asserts. The
// json-pack oracle for every procedure's results is in results-oracle.test.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import type { Attributes, FileType } from '../storage/types.js';
import { XdrWriter } from '../xdr/index.js';
import { nfsstat3 } from './constants.js';
import * as results from './results.js';
import { attributes, encode, FILE, hex, READDIR_OK, READDIRPLUS_OK, VERIFIER, WCC_EMPTY } from './results-fixture.js';


// ---------------------------------------------------------------------------------------------
// Golden bytes, written out from RFC 1813's XDR definitions

const FATTR3_GOLDEN = `
  00000001
  000001a4
  00000001
  000003e8
  00000064
  00000000 00003039
  00000000 00004000
  00000000 00000000
  01020304 05060708
  00000000 0000002a
  6553f100 00000001
  6553f101 3b9ac9ff
  ffffffff 00000000
`;

test('golden: GETATTR3resok is the status then a full fattr3 of 84 bytes', () => {
  // Goal: fattr3's field order and widths (RFC 1813 2.6), ftype3 NF3REG = 1.
  const attributesGolden: Attributes = {
    type: 'reg',
    mode: 0o644,
    nlink: 1,
    uid: 1000,
    gid: 100,
    size: 12345n,
    used: 16384n,
    rdev: { major: 0, minor: 0 },
    fsid: 0x0102_0304_0506_0708n,
    fileid: 42n,
    atime: { seconds: 0x6553f100, nanoseconds: 1 },
    mtime: { seconds: 0x6553f101, nanoseconds: 999_999_999 },
    ctime: { seconds: 0xffff_ffff, nanoseconds: 0 },
  };
  const bytes = encode(results.encodeGetattrResult, { status: nfsstat3.NFS3_OK, objAttributes: attributesGolden });
  assert.deepEqual(bytes, hex(`00000000 ${FATTR3_GOLDEN}`));
  assert.equal(bytes.length, 4 + results.FATTR3_BYTES);
});

test('golden: a failed LOOKUP is the status and post_op_attr FALSE', () => {
  // Goal: LOOKUP3resfail carries dir_attributes even when there are none.
  const bytes = encode(results.encodeLookupResult, { status: nfsstat3.NFS3ERR_NOENT, dirAttributes: undefined });
  assert.deepEqual(bytes, hex('00000002 00000000'));
});

test('golden: a failed GETATTR is the status alone', () => {
  // Goal: GETATTR3res has a void default arm (RFC 1813 3.3.1).
  assert.deepEqual(encode(results.encodeGetattrResult, { status: nfsstat3.NFS3ERR_STALE }), hex('00000046'));
});

test('golden: READ3resok writes count, eof and padded data', () => {
  // Goal: count equals the data length and opaque data<> is padded to a word.
  const bytes = encode(results.encodeReadResult, {
    status: nfsstat3.NFS3_OK,
    fileAttributes: undefined,
    data: Buffer.from('abc'),
    eof: true,
  });
  assert.deepEqual(bytes, hex('00000000 00000000 00000003 00000001 00000003 61626300'));
});

test('golden: READDIR3resok is a linked list of entry3 ended by FALSE, then eof', () => {
  // Goal: entry3 *nextentry is XDR optional-data (RFC 4506 4.19), so each entry opens with TRUE.
  const bytes = encode(results.encodeReaddirResult, {
    status: nfsstat3.NFS3_OK,
    dirAttributes: undefined,
    cookieverf: VERIFIER,
    entries: [{ fileid: 7n, name: 'hello', cookie: 1n }],
    eof: true,
  });
  assert.deepEqual(
    bytes,
    hex(`
      00000000
      00000000
      8899aabb ccddeeff
      00000001 00000000 00000007 00000005 68656c6c 6f000000 00000000 00000001
      00000000
      00000001
    `),
  );
});

test('golden: WRITE3resok with empty wcc_data', () => {
  // Goal: wcc_data is pre_op_attr then post_op_attr; committed is a stable_how.
  const bytes = encode(results.encodeWriteResult, {
    status: nfsstat3.NFS3_OK,
    fileWcc: WCC_EMPTY,
    count: 512,
    committed: 'data-sync',
    verf: VERIFIER,
  });
  assert.deepEqual(bytes, hex('00000000 00000000 00000000 00000200 00000001 8899aabb ccddeeff'));
});

test('golden: fattr3 carries each file type as its ftype3 number and only permission bits', () => {
  // Goal: NF3REG 1 ... NF3FIFO 7 (RFC 1813 2.6); type bits in a mode are never sent.
  const expected: Readonly<Record<FileType, number>> = { reg: 1, dir: 2, blk: 3, chr: 4, lnk: 5, sock: 6, fifo: 7 };
  for (const [type, ftype] of Object.entries(expected) as [FileType, number][]) {
    const withTypeBits = { ...attributes(type, 1n), mode: 0o100755 };
    const bytes = encode(results.encodeGetattrResult, { status: nfsstat3.NFS3_OK, objAttributes: withTypeBits });
    assert.equal(bytes.readUInt32BE(4), ftype, type);
    assert.equal(bytes.readUInt32BE(8), 0o755, type);
  }
});

test('NULL: the result is void', () => {
  // Goal: NULL replies carry no bytes after the RPC header.
  assert.equal(encode(results.encodeNullResult, undefined).length, 0);
});

// ---------------------------------------------------------------------------------------------
// Zero copy, sizes, programmer errors


function chunkHolds(chunks: readonly Buffer[], data: Buffer): boolean {
  return chunks.some(
    (chunk) => chunk.buffer === data.buffer && chunk.byteOffset === data.byteOffset && chunk.length === data.length,
  );
}

test('READ data is spliced into the reply by reference, small or large', () => {
  // Goal: READ never copies file data into the reply buffer.
  for (const size of [5, 4096, 1048576]) {
    const data = Buffer.alloc(size, 0x42);
    const writer = new XdrWriter();
    results.encodeReadResult(writer, { status: 0, fileAttributes: FILE, data, eof: false });
    assert(chunkHolds(writer.finish(), data), `${size} bytes were copied`);
  }
});

test('sizes: READDIR and READDIRPLUS size helpers match the encoded bytes', () => {
  // Goal: a handler that sums these stays within the client's count exactly.
  const readdir = encode(results.encodeReaddirResult, READDIR_OK);
  const readdirBytes =
    4 + results.readdirResOkBaseBytes(READDIR_OK.dirAttributes) + sum(READDIR_OK.entries.map(results.entry3Bytes));
  assert.equal(readdirBytes, readdir.length);
  const plus = encode(results.encodeReaddirplusResult, READDIRPLUS_OK);
  const plusBytes =
    4 + results.readdirResOkBaseBytes(READDIRPLUS_OK.dirAttributes) + sum(READDIRPLUS_OK.entries.map(results.entryplus3Bytes));
  assert.equal(plusBytes, plus.length);
});

function sum(values: readonly number[]): number {
  return values.reduce((total, value) => total + value, 0);
}

test('programmer errors: an over-long handle or a short verifier is an assertion', () => {
  // Goal: the encoders refuse to put a malformed reply on the wire.
  assert.throws(
    () => encode(results.encodeLookupResult, { status: 0, object: Buffer.alloc(65), objAttributes: undefined, dirAttributes: undefined }),
    assert.AssertionError,
  );
  assert.throws(
    () => encode(results.encodeCommitResult, { status: 0, fileWcc: WCC_EMPTY, verf: Buffer.alloc(7) }),
    assert.AssertionError,
  );
});
