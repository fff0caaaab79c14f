// Decoders for the arguments of the 22 NFS version 3 procedures (RFC 1813 section 3.3), built
// on the bounded XdrReader. Layer: nfs3 (above xdr, below the procedure handlers).
//
// Each decoder reads exactly its XDR and then calls `reader.end()`, so truncated input, trailing
// bytes, an out-of-range enum or an over-long opaque all raise XdrDecodeError, which the RPC
// layer answers with GARBAGE_ARGS. What is well-formed XDR but wrong for NFS is left to the
// handler so it can answer with the status the RFC asks for: a name over NAME_BYTES_MAX
// (NFS3ERR_NAMETOOLONG), MKNOD of a regular file (NFS3ERR_BADTYPE), a WRITE whose count differs
// from its data length. Buffers returned are views of the record, never copies.

import type { CreateHow, DeviceNumber, SetAttributes, Stability, Timestamp } from '../storage/types.js';
import { XdrDecodeError, type XdrReader } from '../xdr/index.js';
import {
  NAME_WIRE_BYTES_MAX,
  NFS3_COOKIEVERFSIZE,
  NFS3_CREATEVERFSIZE,
  NFS3_FHSIZE,
  PATH_WIRE_BYTES_MAX,
  WRITE_WIRE_BYTES_MAX,
  createmode3,
  ftype3,
  stable_how,
  time_how,
} from './constants.js';
import type {
  AccessArgs,
  CommitArgs,
  CreateArgs,
  DirOpArgs,
  FsinfoArgs,
  FsstatArgs,
  GetattrArgs,
  LinkArgs,
  LookupArgs,
  MkdirArgs,
  MknodArgs,
  MknodData,
  NullArgs,
  PathconfArgs,
  ReadArgs,
  ReaddirArgs,
  ReaddirplusArgs,
  ReadlinkArgs,
  RemoveArgs,
  RenameArgs,
  RmdirArgs,
  SetattrArgs,
  SymlinkArgs,
  WriteArgs,
} from './types.js';

// ---------------------------------------------------------------------------------------------
// Basic data types (RFC 1813 2.5, 2.6)

function readNfsFh3(reader: XdrReader): Buffer {
  return reader.opaque(NFS3_FHSIZE);
}

/** filename3 is string<>: the wire bound is generous, the handler checks NAME_BYTES_MAX. */
function readFilename3(reader: XdrReader): string {
  return reader.string(NAME_WIRE_BYTES_MAX);
}

/** nfspath3 is string<>: the wire bound is generous, the handler checks PATH_BYTES_MAX. */
function readNfspath3(reader: XdrReader): string {
  return reader.string(PATH_WIRE_BYTES_MAX);
}

/** nfstime3; nanoseconds over 999,999,999 are well-formed XDR, so the handler checks them. */
function readNfstime3(reader: XdrReader): Timestamp {
  const seconds = reader.uint32();
  const nanoseconds = reader.uint32();
  return { seconds, nanoseconds };
}

function readSpecdata3(reader: XdrReader): DeviceNumber {
  const major = reader.uint32();
  const minor = reader.uint32();
  return { major, minor };
}

function readDiropargs3(reader: XdrReader): DirOpArgs {
  const dir = readNfsFh3(reader);
  const name = readFilename3(reader);
  return { dir, name };
}

/** set_atime and set_mtime: SET_TO_SERVER_TIME becomes 'now', DONT_CHANGE no value. */
function readSetTime(reader: XdrReader, what: string): Timestamp | 'now' | undefined {
  const how = reader.enumValue();
  switch (how) {
    case time_how.DONT_CHANGE:
      return undefined;
    case time_how.SET_TO_SERVER_TIME:
      return 'now';
    case time_how.SET_TO_CLIENT_TIME:
      return readNfstime3(reader);
    default:
      throw new XdrDecodeError(`${what}: time_how ${how} is not DONT_CHANGE, SET_TO_SERVER_TIME or SET_TO_CLIENT_TIME`);
  }
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** sattr3 (RFC 1813 2.6): each set_it FALSE (or DONT_CHANGE) leaves its key out. */
function readSattr3(reader: XdrReader): SetAttributes {
  const mode = reader.optional((r) => r.uint32());
  const uid = reader.optional((r) => r.uint32());
  const gid = reader.optional((r) => r.uint32());
  const size = reader.optional((r) => r.uint64());
  const atime = readSetTime(reader, 'sattr3.atime');
  const mtime = readSetTime(reader, 'sattr3.mtime');
  const changes: Mutable<SetAttributes> = {};
  if (mode !== undefined) changes.mode = mode;
  if (uid !== undefined) changes.uid = uid;
  if (gid !== undefined) changes.gid = gid;
  if (size !== undefined) changes.size = size;
  if (atime !== undefined) changes.atime = atime;
  if (mtime !== undefined) changes.mtime = mtime;
  return changes;
}

/** sattrguard3: the ctime the client expects, when it asks for the check. */
function readSattrguard3(reader: XdrReader): Timestamp | undefined {
  return reader.optional(readNfstime3);
}

/** createhow3 (RFC 1813 3.3.8). */
function readCreatehow3(reader: XdrReader): CreateHow {
  const mode = reader.enumValue();
  switch (mode) {
    case createmode3.UNCHECKED:
      return { mode: 'unchecked', attributes: readSattr3(reader) };
    case createmode3.GUARDED:
      return { mode: 'guarded', attributes: readSattr3(reader) };
    case createmode3.EXCLUSIVE:
      return { mode: 'exclusive', verifier: reader.fixedOpaque(NFS3_CREATEVERFSIZE) };
    default:
      throw new XdrDecodeError(`createhow3: createmode3 ${mode} is not UNCHECKED, GUARDED or EXCLUSIVE`);
  }
}

/**
 * mknoddata3 (RFC 1813 3.3.11). A type outside ftype3 is malformed XDR; NF3REG, NF3DIR and
 * NF3LNK take the union's void default and come back for the handler to answer NFS3ERR_BADTYPE.
 */
function readMknoddata3(reader: XdrReader): MknodData {
  const type = reader.enumValue();
  switch (type) {
    case ftype3.NF3CHR:
      return { type: 'chr', attributes: readSattr3(reader), rdev: readSpecdata3(reader) };
    case ftype3.NF3BLK:
      return { type: 'blk', attributes: readSattr3(reader), rdev: readSpecdata3(reader) };
    case ftype3.NF3SOCK:
      return { type: 'sock', attributes: readSattr3(reader) };
    case ftype3.NF3FIFO:
      return { type: 'fifo', attributes: readSattr3(reader) };
    case ftype3.NF3REG:
      return { type: 'reg' };
    case ftype3.NF3DIR:
      return { type: 'dir' };
    case ftype3.NF3LNK:
      return { type: 'lnk' };
    default:
      throw new XdrDecodeError(`mknoddata3: ftype3 ${type} is not a file type`);
  }
}

/** stable_how (RFC 1813 3.3.7). */
function readStableHow(reader: XdrReader): Stability {
  const stable = reader.enumValue();
  switch (stable) {
    case stable_how.UNSTABLE:
      return 'unstable';
    case stable_how.DATA_SYNC:
      return 'data-sync';
    case stable_how.FILE_SYNC:
      return 'file-sync';
    default:
      throw new XdrDecodeError(`stable_how ${stable} is not UNSTABLE, DATA_SYNC or FILE_SYNC`);
  }
}

/** Returns `args` once every byte of the record has been read. */
function ended<T>(reader: XdrReader, what: string, args: T): T {
  reader.end(what);
  return args;
}

// ---------------------------------------------------------------------------------------------
// One decoder per procedure. Object literals evaluate their properties in order, so each
// literal below reads its fields in the order the RFC's struct lists them.

/** 3.3.0 NULL: void. */
export function decodeNullArgs(reader: XdrReader): NullArgs {
  reader.end('NULL arguments');
}

/** 3.3.1 GETATTR3args. */
export function decodeGetattrArgs(reader: XdrReader): GetattrArgs {
  return ended(reader, 'GETATTR3args', { object: readNfsFh3(reader) });
}

/** 3.3.2 SETATTR3args. */
export function decodeSetattrArgs(reader: XdrReader): SetattrArgs {
  return ended(reader, 'SETATTR3args', {
    object: readNfsFh3(reader),
    newAttributes: readSattr3(reader),
    guard: readSattrguard3(reader),
  });
}

/** 3.3.3 LOOKUP3args. */
export function decodeLookupArgs(reader: XdrReader): LookupArgs {
  return ended(reader, 'LOOKUP3args', { what: readDiropargs3(reader) });
}

/** 3.3.4 ACCESS3args. */
export function decodeAccessArgs(reader: XdrReader): AccessArgs {
  return ended(reader, 'ACCESS3args', { object: readNfsFh3(reader), access: reader.uint32() });
}

/** 3.3.5 READLINK3args. */
export function decodeReadlinkArgs(reader: XdrReader): ReadlinkArgs {
  return ended(reader, 'READLINK3args', { symlink: readNfsFh3(reader) });
}

/** 3.3.6 READ3args. */
export function decodeReadArgs(reader: XdrReader): ReadArgs {
  return ended(reader, 'READ3args', {
    file: readNfsFh3(reader),
    offset: reader.uint64(),
    count: reader.uint32(),
  });
}

/**
 * 3.3.7 WRITE3args. Data over WRITE_BYTES_MAX (FSINFO wtmax) is well-formed: the handler
 * writes it short. Only data beyond the generous WRITE_WIRE_BYTES_MAX is malformed.
 * `count` is passed on as sent; see WriteArgs for who checks it against the data length.
 */
export function decodeWriteArgs(reader: XdrReader): WriteArgs {
  return ended(reader, 'WRITE3args', {
    file: readNfsFh3(reader),
    offset: reader.uint64(),
    count: reader.uint32(),
    stable: readStableHow(reader),
    data: reader.bulkOpaque(WRITE_WIRE_BYTES_MAX),
  });
}

/** 3.3.8 CREATE3args. */
export function decodeCreateArgs(reader: XdrReader): CreateArgs {
  return ended(reader, 'CREATE3args', { where: readDiropargs3(reader), how: readCreatehow3(reader) });
}

/** 3.3.9 MKDIR3args. */
export function decodeMkdirArgs(reader: XdrReader): MkdirArgs {
  return ended(reader, 'MKDIR3args', { where: readDiropargs3(reader), attributes: readSattr3(reader) });
}

/** 3.3.10 SYMLINK3args (symlinkdata3 flattened). */
export function decodeSymlinkArgs(reader: XdrReader): SymlinkArgs {
  return ended(reader, 'SYMLINK3args', {
    where: readDiropargs3(reader),
    symlinkAttributes: readSattr3(reader),
    symlinkData: readNfspath3(reader),
  });
}

/** 3.3.11 MKNOD3args. */
export function decodeMknodArgs(reader: XdrReader): MknodArgs {
  return ended(reader, 'MKNOD3args', { where: readDiropargs3(reader), what: readMknoddata3(reader) });
}

/** 3.3.12 REMOVE3args. */
export function decodeRemoveArgs(reader: XdrReader): RemoveArgs {
  return ended(reader, 'REMOVE3args', { object: readDiropargs3(reader) });
}

/** 3.3.13 RMDIR3args. */
export function decodeRmdirArgs(reader: XdrReader): RmdirArgs {
  return ended(reader, 'RMDIR3args', { object: readDiropargs3(reader) });
}

/** 3.3.14 RENAME3args. */
export function decodeRenameArgs(reader: XdrReader): RenameArgs {
  return ended(reader, 'RENAME3args', { from: readDiropargs3(reader), to: readDiropargs3(reader) });
}

/** 3.3.15 LINK3args. */
export function decodeLinkArgs(reader: XdrReader): LinkArgs {
  return ended(reader, 'LINK3args', { file: readNfsFh3(reader), link: readDiropargs3(reader) });
}

/** 3.3.16 READDIR3args. */
export function decodeReaddirArgs(reader: XdrReader): ReaddirArgs {
  return ended(reader, 'READDIR3args', {
    dir: readNfsFh3(reader),
    cookie: reader.uint64(),
    cookieverf: reader.fixedOpaque(NFS3_COOKIEVERFSIZE),
    count: reader.uint32(),
  });
}

/** 3.3.17 READDIRPLUS3args. */
export function decodeReaddirplusArgs(reader: XdrReader): ReaddirplusArgs {
  return ended(reader, 'READDIRPLUS3args', {
    dir: readNfsFh3(reader),
    cookie: reader.uint64(),
    cookieverf: reader.fixedOpaque(NFS3_COOKIEVERFSIZE),
    dircount: reader.uint32(),
    maxcount: reader.uint32(),
  });
}

/** 3.3.18 FSSTAT3args. */
export function decodeFsstatArgs(reader: XdrReader): FsstatArgs {
  return ended(reader, 'FSSTAT3args', { fsroot: readNfsFh3(reader) });
}

/** 3.3.19 FSINFO3args. */
export function decodeFsinfoArgs(reader: XdrReader): FsinfoArgs {
  return ended(reader, 'FSINFO3args', { fsroot: readNfsFh3(reader) });
}

/** 3.3.20 PATHCONF3args. */
export function decodePathconfArgs(reader: XdrReader): PathconfArgs {
  return ended(reader, 'PATHCONF3args', { object: readNfsFh3(reader) });
}

/** 3.3.21 COMMIT3args. */
export function decodeCommitArgs(reader: XdrReader): CommitArgs {
  return ended(reader, 'COMMIT3args', {
    file: readNfsFh3(reader),
    offset: reader.uint64(),
    count: reader.uint32(),
  });
}
