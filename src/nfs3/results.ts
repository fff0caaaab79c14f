// Encoders for the results of the 22 NFS version 3 procedures (RFC 1813 section 3.3), and the
// shared pieces they are built from (fattr3, post_op_attr, wcc_data, post_op_fh3: RFC 1813 2.6).
// Layer: nfs3 (above xdr, below the procedure handlers). Each encoder writes the status and then
// the arm it selects; the result types make the arms' fields required, so these functions only
// translate. READ data is spliced into the reply by reference (XdrWriter.payload), never copied.
// Passing a handle over NFS3_FHSIZE or a verifier of the wrong size is a programmer error.

import assert from 'node:assert/strict';

import type { Attributes, DeviceNumber, Timestamp } from '../storage/types.js';
import type { XdrWriter } from '../xdr/index.js';
import { padding } from '../xdr/index.js';
import {
  FTYPE3_OF_FILE_TYPE,
  NFS3_COOKIEVERFSIZE,
  NFS3_FHSIZE,
  NFS3_WRITEVERFSIZE,
  STABLE_HOW_OF_STABILITY,
  nfsstat3,
} from './constants.js';
import type {
  AccessResult,
  CommitResult,
  CreateResult,
  CreatedResFail,
  CreatedResOk,
  Entry3,
  Entryplus3,
  FsinfoResult,
  FsstatResult,
  GetattrResult,
  LinkResult,
  LookupResult,
  MkdirResult,
  MknodResult,
  Nfs3Result,
  NullResult,
  PathconfResult,
  PostOpAttr,
  PostOpFh,
  ReadResult,
  ReaddirResult,
  ReaddirplusResult,
  ReadlinkResult,
  RemoveResult,
  RenameResult,
  RmdirResult,
  SetattrResult,
  SymlinkResult,
  WccAttr,
  WccData,
  WriteResult,
} from './types.js';

/** Permission bits only: fattr3.mode carries no file type bits (RFC 1813 2.6). */
const MODE_PERMISSION_BITS = 0o7777;

// ---------------------------------------------------------------------------------------------
// Shared pieces (RFC 1813 2.6)

export function writeNfstime3(writer: XdrWriter, time: Timestamp): void {
  writer.uint32(time.seconds).uint32(time.nanoseconds);
}

export function writeSpecdata3(writer: XdrWriter, device: DeviceNumber): void {
  writer.uint32(device.major).uint32(device.minor);
}

/**
 * fattr3: type, mode, nlink, uid, gid, size, used, rdev, fsid, fileid, atime, mtime, ctime,
 * written in one reservation of FATTR3_BYTES (a writer call per field cost more, in every reply
 * with attributes and in each READDIRPLUS entry).
 */
export function writeFattr3(writer: XdrWriter, attributes: Attributes): void {
  const at = writer.reserve(FATTR3_BYTES);
  const view = writer.view;
  view.setUint32(at, FTYPE3_OF_FILE_TYPE[attributes.type]);
  view.setUint32(at + 4, attributes.mode & MODE_PERMISSION_BITS);
  view.setUint32(at + 8, attributes.nlink);
  view.setUint32(at + 12, attributes.uid);
  view.setUint32(at + 16, attributes.gid);
  view.setBigUint64(at + 20, attributes.size);
  view.setBigUint64(at + 28, attributes.used);
  view.setUint32(at + 36, attributes.rdev.major);
  view.setUint32(at + 40, attributes.rdev.minor);
  view.setBigUint64(at + 44, attributes.fsid);
  view.setBigUint64(at + 52, attributes.fileid);
  view.setUint32(at + 60, attributes.atime.seconds);
  view.setUint32(at + 64, attributes.atime.nanoseconds);
  view.setUint32(at + 68, attributes.mtime.seconds);
  view.setUint32(at + 72, attributes.mtime.nanoseconds);
  view.setUint32(at + 76, attributes.ctime.seconds);
  view.setUint32(at + 80, attributes.ctime.nanoseconds);
}

export function writePostOpAttr(writer: XdrWriter, attributes: PostOpAttr): void {
  writer.optional(attributes, writeFattr3);
}

function writeWccAttr(writer: XdrWriter, attributes: WccAttr): void {
  writer.uint64(attributes.size);
  writeNfstime3(writer, attributes.mtime);
  writeNfstime3(writer, attributes.ctime);
}

/** wcc_data: pre_op_attr then post_op_attr. */
export function writeWccData(writer: XdrWriter, wcc: WccData): void {
  writer.optional(wcc.before, writeWccAttr);
  writePostOpAttr(writer, wcc.after);
}

export function writeNfsFh3(writer: XdrWriter, handle: Buffer): void {
  assert(handle.length <= NFS3_FHSIZE, `a file handle of ${handle.length} bytes exceeds NFS3_FHSIZE`);
  writer.opaque(handle);
}

export function writePostOpFh(writer: XdrWriter, handle: PostOpFh): void {
  writer.optional(handle, writeNfsFh3);
}

function writeVerifier(writer: XdrWriter, verifier: Buffer, bytes: number): void {
  assert.equal(verifier.length, bytes, 'a verifier has the wrong size');
  writer.fixedOpaque(verifier);
}

/** Writes the status, then `ok` or `fail` for the arm it selects. */
function writeResult<ResOk, ResFail>(
  writer: XdrWriter,
  result: Nfs3Result<ResOk, ResFail>,
  ok: (writer: XdrWriter, body: ResOk) => void,
  fail: (writer: XdrWriter, body: ResFail) => void,
): void {
  writer.uint32(result.status);
  if (result.status === nfsstat3.NFS3_OK) ok(writer, result);
  else fail(writer, result);
}

// ---------------------------------------------------------------------------------------------
// One encoder per procedure

/** 3.3.0 NULL: void. */
export function encodeNullResult(_writer: XdrWriter, _result: NullResult): void {}

/** 3.3.1 GETATTR3res: the failure arm is void. */
export function encodeGetattrResult(writer: XdrWriter, result: GetattrResult): void {
  writeResult(writer, result, (w, ok) => writeFattr3(w, ok.objAttributes), () => {});
}

/** 3.3.2 SETATTR3res: obj_wcc in both arms. */
export function encodeSetattrResult(writer: XdrWriter, result: SetattrResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.objWcc);
}

/** 3.3.3 LOOKUP3res. */
export function encodeLookupResult(writer: XdrWriter, result: LookupResult): void {
  writeResult(
    writer,
    result,
    (w, ok) => {
      writeNfsFh3(w, ok.object);
      writePostOpAttr(w, ok.objAttributes);
      writePostOpAttr(w, ok.dirAttributes);
    },
    (w, fail) => writePostOpAttr(w, fail.dirAttributes),
  );
}

/** 3.3.4 ACCESS3res: obj_attributes in both arms, then the granted bits. */
export function encodeAccessResult(writer: XdrWriter, result: AccessResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.objAttributes);
  if (result.status === nfsstat3.NFS3_OK) writer.uint32(result.access);
}

/** 3.3.5 READLINK3res. */
export function encodeReadlinkResult(writer: XdrWriter, result: ReadlinkResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.symlinkAttributes);
  if (result.status === nfsstat3.NFS3_OK) writer.string(result.data);
}

/** 3.3.6 READ3res: count is data.length; the data goes out by reference. */
export function encodeReadResult(writer: XdrWriter, result: ReadResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.fileAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writer.uint32(result.data.length).bool(result.eof);
  writer.uint32(result.data.length).payload(result.data);
}

/** 3.3.7 WRITE3res. */
export function encodeWriteResult(writer: XdrWriter, result: WriteResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.fileWcc);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writer.uint32(result.count).uint32(STABLE_HOW_OF_STABILITY[result.committed]);
  writeVerifier(writer, result.verf, NFS3_WRITEVERFSIZE);
}

/** CREATE3res, MKDIR3res, SYMLINK3res and MKNOD3res share one shape. */
function writeCreatedResult(writer: XdrWriter, result: Nfs3Result<CreatedResOk, CreatedResFail>): void {
  writeResult(
    writer,
    result,
    (w, ok) => {
      writePostOpFh(w, ok.obj);
      writePostOpAttr(w, ok.objAttributes);
      writeWccData(w, ok.dirWcc);
    },
    (w, fail) => writeWccData(w, fail.dirWcc),
  );
}

/** 3.3.8 CREATE3res. */
export function encodeCreateResult(writer: XdrWriter, result: CreateResult): void {
  writeCreatedResult(writer, result);
}

/** 3.3.9 MKDIR3res. */
export function encodeMkdirResult(writer: XdrWriter, result: MkdirResult): void {
  writeCreatedResult(writer, result);
}

/** 3.3.10 SYMLINK3res. */
export function encodeSymlinkResult(writer: XdrWriter, result: SymlinkResult): void {
  writeCreatedResult(writer, result);
}

/** 3.3.11 MKNOD3res. */
export function encodeMknodResult(writer: XdrWriter, result: MknodResult): void {
  writeCreatedResult(writer, result);
}

/** 3.3.12 REMOVE3res: dir_wcc in both arms. */
export function encodeRemoveResult(writer: XdrWriter, result: RemoveResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.dirWcc);
}

/** 3.3.13 RMDIR3res: dir_wcc in both arms. */
export function encodeRmdirResult(writer: XdrWriter, result: RmdirResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.dirWcc);
}

/** 3.3.14 RENAME3res: fromdir_wcc and todir_wcc in both arms. */
export function encodeRenameResult(writer: XdrWriter, result: RenameResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.fromDirWcc);
  writeWccData(writer, result.toDirWcc);
}

/** 3.3.15 LINK3res: file_attributes and linkdir_wcc in both arms. */
export function encodeLinkResult(writer: XdrWriter, result: LinkResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.fileAttributes);
  writeWccData(writer, result.linkDirWcc);
}

/** entry3: the XDR optional-data linked list, one TRUE per entry and a final FALSE. */
function writeEntry3(writer: XdrWriter, entry: Entry3): void {
  writer.bool(true).uint64(entry.fileid).string(entry.name).uint64(entry.cookie);
}

function writeEntryplus3(writer: XdrWriter, entry: Entryplus3): void {
  writeEntry3(writer, entry);
  writePostOpAttr(writer, entry.attributes);
  writePostOpFh(writer, entry.handle);
}

/** 3.3.16 READDIR3res. */
export function encodeReaddirResult(writer: XdrWriter, result: ReaddirResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.dirAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writeVerifier(writer, result.cookieverf, NFS3_COOKIEVERFSIZE);
  for (const entry of result.entries) writeEntry3(writer, entry);
  writer.bool(false).bool(result.eof);
}

/** 3.3.17 READDIRPLUS3res. */
export function encodeReaddirplusResult(writer: XdrWriter, result: ReaddirplusResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.dirAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writeVerifier(writer, result.cookieverf, NFS3_COOKIEVERFSIZE);
  for (const entry of result.entries) writeEntryplus3(writer, entry);
  writer.bool(false).bool(result.eof);
}

/** 3.3.18 FSSTAT3res. */
export function encodeFsstatResult(writer: XdrWriter, result: FsstatResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.objAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writer.uint64(result.tbytes).uint64(result.fbytes).uint64(result.abytes);
  writer.uint64(result.tfiles).uint64(result.ffiles).uint64(result.afiles);
  writer.uint32(result.invarsec);
}

/** 3.3.19 FSINFO3res. */
export function encodeFsinfoResult(writer: XdrWriter, result: FsinfoResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.objAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writer.uint32(result.rtmax).uint32(result.rtpref).uint32(result.rtmult);
  writer.uint32(result.wtmax).uint32(result.wtpref).uint32(result.wtmult);
  writer.uint32(result.dtpref).uint64(result.maxfilesize);
  writeNfstime3(writer, result.timeDelta);
  writer.uint32(result.properties);
}

/** 3.3.20 PATHCONF3res. */
export function encodePathconfResult(writer: XdrWriter, result: PathconfResult): void {
  writer.uint32(result.status);
  writePostOpAttr(writer, result.objAttributes);
  if (result.status !== nfsstat3.NFS3_OK) return;
  writer.uint32(result.linkmax).uint32(result.nameMax);
  writer.bool(result.noTrunc).bool(result.chownRestricted);
  writer.bool(result.caseInsensitive).bool(result.casePreserving);
}

/** 3.3.21 COMMIT3res. */
export function encodeCommitResult(writer: XdrWriter, result: CommitResult): void {
  writer.uint32(result.status);
  writeWccData(writer, result.fileWcc);
  if (result.status === nfsstat3.NFS3_OK) writeVerifier(writer, result.verf, NFS3_WRITEVERFSIZE);
}

// ---------------------------------------------------------------------------------------------
// Sizes, so a READDIR handler can stop before the client's count (RFC 1813 3.3.16: "The size
// must include all XDR overhead"). They count READDIR3resok / READDIRPLUS3resok, which is the
// reply without its status word.

/** fattr3 is 21 words: five uint32, four uint64 (two words each), specdata3 and three nfstime3. */
export const FATTR3_BYTES = 84;

function postOpAttrBytes(attributes: PostOpAttr): number {
  return 4 + (attributes === undefined ? 0 : FATTR3_BYTES);
}

/** A resok with no entries: dir_attributes, cookieverf, the list's final FALSE and eof. */
export function readdirResOkBaseBytes(dirAttributes: PostOpAttr): number {
  return postOpAttrBytes(dirAttributes) + NFS3_COOKIEVERFSIZE + 4 + 4;
}

/** One entry3 in the list: value-follows, fileid, name, cookie. */
export function entry3Bytes(entry: Entry3): number {
  const nameBytes = entry.name.length;
  return 4 + 8 + 4 + nameBytes + padding(nameBytes) + 8;
}

/** One entryplus3 in the list: an entry3 plus name_attributes and name_handle. */
export function entryplus3Bytes(entry: Entryplus3): number {
  const handleBytes = entry.handle === undefined ? 0 : 4 + entry.handle.length + padding(entry.handle.length);
  return entry3Bytes(entry) + postOpAttrBytes(entry.attributes) + 4 + handleBytes;
}
