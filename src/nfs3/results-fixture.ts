// Shared fixtures of the NFSv3 result encoder tests (results.test.ts, results-oracle.test.ts):
// attributes with every field set to a recognisable value, a padded handle, a verifier and
// three timestamps (one at the top of the uint32 range).

import type { Attributes, FileType, Timestamp } from '../storage/types.js';
import { XdrWriter } from '../xdr/index.js';
import { nfsstat3 } from './constants.js';
import type { ReaddirResult, ReaddirplusResult, WccData } from './types.js';

export function encode<R>(encoder: (writer: XdrWriter, result: R) => void, result: R): Buffer {
  const writer = new XdrWriter();
  encoder(writer, result);
  return writer.toBuffer();
}

export function hex(text: string): Buffer {
  return Buffer.from(text.replace(/\s+/g, ''), 'hex');
}

export const HANDLE = hex('0123456789abcdef0123'); // 10 bytes: needs 2 bytes of padding
export const VERIFIER = hex('8899aabbccddeeff');
export const T1: Timestamp = { seconds: 1_700_000_000, nanoseconds: 1 };
export const T2: Timestamp = { seconds: 1_700_000_001, nanoseconds: 999_999_999 };
export const T3: Timestamp = { seconds: 0xffff_ffff, nanoseconds: 0 };

export function attributes(type: FileType, fileid: bigint): Attributes {
  return {
    type,
    mode: 0o4755,
    nlink: 2,
    uid: 1000,
    gid: 100,
    size: 0x1_2345_6789n,
    used: 0x2_0000_0000n,
    rdev: type === 'chr' || type === 'blk' ? { major: 8, minor: 17 } : { major: 0, minor: 0 },
    fsid: 0x0102_0304_0506_0708n,
    fileid,
    atime: T1,
    mtime: T2,
    ctime: T3,
  };
}

export const FILE = attributes('reg', 42n);
export const DIR = attributes('dir', 2n);
export const LINK = attributes('lnk', 43n);
export const WCC_EMPTY: WccData = { before: undefined, after: undefined };

export const READDIR_OK: Extract<ReaddirResult, { readonly status: typeof nfsstat3.NFS3_OK }> = {
  status: nfsstat3.NFS3_OK,
  dirAttributes: DIR,
  cookieverf: VERIFIER,
  entries: [
    { fileid: 42n, name: 'a', cookie: 1n },
    { fileid: 43n, name: 'four', cookie: 2n },
    { fileid: 0xffff_ffff_ffff_ffffn, name: 'a-longer-name.txt', cookie: 0x7fff_ffff_ffff_ffffn },
  ],
  eof: true,
};

export const READDIRPLUS_OK: Extract<ReaddirplusResult, { readonly status: typeof nfsstat3.NFS3_OK }> = {
  status: nfsstat3.NFS3_OK,
  dirAttributes: undefined,
  cookieverf: VERIFIER,
  entries: [
    { fileid: 42n, name: 'file', cookie: 1n, attributes: FILE, handle: HANDLE },
    { fileid: 43n, name: 'link', cookie: 2n, attributes: undefined, handle: Buffer.alloc(64, 0xee) },
    { fileid: 2n, name: 'dir', cookie: 3n, attributes: DIR, handle: undefined },
    { fileid: 44n, name: 'bare', cookie: 4n, attributes: undefined, handle: undefined },
  ],
  eof: false,
};
