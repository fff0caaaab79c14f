// The arguments and results of the 22 NFS version 3 procedures (RFC 1813 section 3.3), as the
// codec hands them to the handlers and takes them back. Layer: nfs3.
//
// Conventions:
// - Field names are the RFC's in camelCase (obj_attributes -> objAttributes).
// - File handles are Buffers; names and paths are 'latin1' strings, so any byte sequence
//   round-trips and `name.length` is its length in bytes.
// - Buffers in decoded arguments are views of the RPC record (no copy): they stay valid as long
//   as the record buffer is not reused.
// - Each result is a union on `status`: NFS3_OK selects the resok fields and every other status
//   the resfail fields, so a reply that leaves out its wcc_data or post_op_attr does not compile.
// - Storage types are reused where they are the wire type: `Attributes` is fattr3, `Timestamp`
//   is nfstime3, `DeviceNumber` is specdata3, `SetAttributes` is a decoded sattr3 and
//   `CreateHow` a decoded createhow3.

import type {
  Attributes,
  CreateHow,
  DeviceNumber,
  SetAttributes,
  Stability,
  Timestamp,
} from '../storage/types.js';
import type { Nfsstat3Error, nfsstat3 } from './constants.js';

// ---------------------------------------------------------------------------------------------
// Shared pieces (RFC 1813 2.6)

/** post_op_attr: the object's attributes after the operation, when the server has them. */
export type PostOpAttr = Attributes | undefined;

/** wcc_attr: the attributes a client needs to check its cache against (pre_op_attr's arm). */
export interface WccAttr {
  readonly size: bigint;
  readonly mtime: Timestamp;
  readonly ctime: Timestamp;
}

/** wcc_data: weak cache consistency data; an absent side is encoded as attributes_follow FALSE. */
export interface WccData {
  readonly before?: WccAttr | undefined;
  readonly after?: PostOpAttr;
}

/** post_op_fh3: the handle of a created object, when the server returns it. */
export type PostOpFh = Buffer | undefined;

/** diropargs3: a directory and a name in it. */
export interface DirOpArgs {
  readonly dir: Buffer;
  readonly name: string;
}

/** A result: NFS3_OK with the resok fields, or an error status with the resfail fields. */
export type Nfs3Result<ResOk, ResFail> =
  | ({ readonly status: typeof nfsstat3.NFS3_OK } & ResOk)
  | ({ readonly status: Nfsstat3Error } & ResFail);

// ---------------------------------------------------------------------------------------------
// 3.3.0 NULL

export type NullArgs = void;
export type NullResult = void;

// 3.3.1 GETATTR

export interface GetattrArgs {
  readonly object: Buffer;
}
export interface GetattrResOk {
  readonly objAttributes: Attributes;
}
/** RFC 1813 3.3.1: the failure arm is void. */
export type GetattrResult = Nfs3Result<GetattrResOk, Record<never, never>>;

// 3.3.2 SETATTR

export interface SetattrArgs {
  readonly object: Buffer;
  readonly newAttributes: SetAttributes;
  /** sattrguard3: when present, the server must answer NFS3ERR_NOT_SYNC unless ctime matches. */
  readonly guard: Timestamp | undefined;
}
export interface SetattrResBody {
  readonly objWcc: WccData;
}
export type SetattrResult = Nfs3Result<SetattrResBody, SetattrResBody>;

// 3.3.3 LOOKUP

export interface LookupArgs {
  readonly what: DirOpArgs;
}
export interface LookupResOk {
  readonly object: Buffer;
  readonly objAttributes: PostOpAttr;
  readonly dirAttributes: PostOpAttr;
}
export interface LookupResFail {
  readonly dirAttributes: PostOpAttr;
}
export type LookupResult = Nfs3Result<LookupResOk, LookupResFail>;

// 3.3.4 ACCESS

export interface AccessArgs {
  readonly object: Buffer;
  /** ACCESS3_* bits asked about. */
  readonly access: number;
}
export interface AccessResOk {
  readonly objAttributes: PostOpAttr;
  /** ACCESS3_* bits granted. */
  readonly access: number;
}
export interface AccessResFail {
  readonly objAttributes: PostOpAttr;
}
export type AccessResult = Nfs3Result<AccessResOk, AccessResFail>;

// 3.3.5 READLINK

export interface ReadlinkArgs {
  readonly symlink: Buffer;
}
export interface ReadlinkResOk {
  readonly symlinkAttributes: PostOpAttr;
  readonly data: string;
}
export interface ReadlinkResFail {
  readonly symlinkAttributes: PostOpAttr;
}
export type ReadlinkResult = Nfs3Result<ReadlinkResOk, ReadlinkResFail>;

// 3.3.6 READ

export interface ReadArgs {
  readonly file: Buffer;
  readonly offset: bigint;
  readonly count: number;
}
export interface ReadResOk {
  readonly fileAttributes: PostOpAttr;
  /** READ3resok.count is written as data.length: the two cannot disagree. */
  readonly data: Buffer;
  readonly eof: boolean;
}
export interface ReadResFail {
  readonly fileAttributes: PostOpAttr;
}
export type ReadResult = Nfs3Result<ReadResOk, ReadResFail>;

// 3.3.7 WRITE

export interface WriteArgs {
  readonly file: Buffer;
  readonly offset: bigint;
  /**
   * The client's count, as sent. RFC 1813 3.3.7 means it to equal data.length; the decoder
   * does not enforce that, the handler decides (it should write data.length bytes and may
   * answer NFS3ERR_INVAL when count is different).
   */
  readonly count: number;
  readonly stable: Stability;
  /**
   * Views of the record (no copy): one, or for a large record the pieces of the chunks it
   * arrived in. At most WRITE_WIRE_BYTES_MAX bytes (the handler writes WRITE_BYTES_MAX).
   */
  readonly data: readonly Buffer[];
}
export interface WriteResOk {
  readonly fileWcc: WccData;
  readonly count: number;
  readonly committed: Stability;
  /** writeverf3: NFS3_WRITEVERFSIZE bytes. */
  readonly verf: Buffer;
}
export interface WriteResFail {
  readonly fileWcc: WccData;
}
export type WriteResult = Nfs3Result<WriteResOk, WriteResFail>;

// 3.3.8 CREATE, 3.3.9 MKDIR, 3.3.10 SYMLINK, 3.3.11 MKNOD share their results

export interface CreatedResOk {
  readonly obj: PostOpFh;
  readonly objAttributes: PostOpAttr;
  readonly dirWcc: WccData;
}
export interface CreatedResFail {
  readonly dirWcc: WccData;
}

export interface CreateArgs {
  readonly where: DirOpArgs;
  /** createhow3; EXCLUSIVE carries the NFS3_CREATEVERFSIZE-byte verifier. */
  readonly how: CreateHow;
}
export type CreateResult = Nfs3Result<CreatedResOk, CreatedResFail>;

export interface MkdirArgs {
  readonly where: DirOpArgs;
  readonly attributes: SetAttributes;
}
export type MkdirResult = Nfs3Result<CreatedResOk, CreatedResFail>;

export interface SymlinkArgs {
  readonly where: DirOpArgs;
  readonly symlinkAttributes: SetAttributes;
  /** The target; the handler answers NFS3ERR_NAMETOOLONG beyond PATH_BYTES_MAX. */
  readonly symlinkData: string;
}
export type SymlinkResult = Nfs3Result<CreatedResOk, CreatedResFail>;

/**
 * mknoddata3. Devices carry attributes and a device number (devicedata3's `spec`), sockets and
 * FIFOs attributes only.
 * NF3REG, NF3DIR and NF3LNK are well-formed XDR (the union's void default) that MKNOD cannot
 * create: the decoder returns them so the handler answers NFS3ERR_BADTYPE (RFC 1813 3.3.11).
 */
export type MknodData =
  | { readonly type: 'chr' | 'blk'; readonly attributes: SetAttributes; readonly rdev: DeviceNumber }
  | { readonly type: 'sock' | 'fifo'; readonly attributes: SetAttributes }
  | { readonly type: 'reg' | 'dir' | 'lnk' };

export interface MknodArgs {
  readonly where: DirOpArgs;
  readonly what: MknodData;
}
export type MknodResult = Nfs3Result<CreatedResOk, CreatedResFail>;

// 3.3.12 REMOVE, 3.3.13 RMDIR

export interface RemoveArgs {
  readonly object: DirOpArgs;
}
export interface DirWccResBody {
  readonly dirWcc: WccData;
}
export type RemoveResult = Nfs3Result<DirWccResBody, DirWccResBody>;

export interface RmdirArgs {
  readonly object: DirOpArgs;
}
export type RmdirResult = Nfs3Result<DirWccResBody, DirWccResBody>;

// 3.3.14 RENAME

export interface RenameArgs {
  readonly from: DirOpArgs;
  readonly to: DirOpArgs;
}
export interface RenameResBody {
  readonly fromDirWcc: WccData;
  readonly toDirWcc: WccData;
}
export type RenameResult = Nfs3Result<RenameResBody, RenameResBody>;

// 3.3.15 LINK

export interface LinkArgs {
  readonly file: Buffer;
  readonly link: DirOpArgs;
}
export interface LinkResBody {
  readonly fileAttributes: PostOpAttr;
  readonly linkDirWcc: WccData;
}
export type LinkResult = Nfs3Result<LinkResBody, LinkResBody>;

// 3.3.16 READDIR

export interface ReaddirArgs {
  readonly dir: Buffer;
  readonly cookie: bigint;
  /** NFS3_COOKIEVERFSIZE bytes. */
  readonly cookieverf: Buffer;
  /** The most bytes of READDIR3resok the client takes; the handler caps it at READDIR_BYTES_MAX. */
  readonly count: number;
}
/** entry3 (the XDR linked list becomes an array). */
export interface Entry3 {
  readonly fileid: bigint;
  readonly name: string;
  readonly cookie: bigint;
}
export interface ReaddirResOk {
  readonly dirAttributes: PostOpAttr;
  readonly cookieverf: Buffer;
  readonly entries: readonly Entry3[];
  readonly eof: boolean;
}
export interface ReaddirResFail {
  readonly dirAttributes: PostOpAttr;
}
export type ReaddirResult = Nfs3Result<ReaddirResOk, ReaddirResFail>;

// 3.3.17 READDIRPLUS

export interface ReaddirplusArgs {
  readonly dir: Buffer;
  readonly cookie: bigint;
  readonly cookieverf: Buffer;
  /** The most bytes of directory information (names and fileids only). */
  readonly dircount: number;
  /** The most bytes of READDIRPLUS3resok; the handler caps it at READDIR_BYTES_MAX. */
  readonly maxcount: number;
}
/** entryplus3: attributes and handle are optional per entry (post_op_attr, post_op_fh3). */
export interface Entryplus3 extends Entry3 {
  readonly attributes?: Attributes | undefined;
  readonly handle?: Buffer | undefined;
}
export interface ReaddirplusResOk {
  readonly dirAttributes: PostOpAttr;
  readonly cookieverf: Buffer;
  readonly entries: readonly Entryplus3[];
  readonly eof: boolean;
}
export type ReaddirplusResult = Nfs3Result<ReaddirplusResOk, ReaddirResFail>;

// 3.3.18 FSSTAT

export interface FsstatArgs {
  readonly fsroot: Buffer;
}
export interface FsstatResOk {
  readonly objAttributes: PostOpAttr;
  readonly tbytes: bigint;
  readonly fbytes: bigint;
  readonly abytes: bigint;
  readonly tfiles: bigint;
  readonly ffiles: bigint;
  readonly afiles: bigint;
  /** Seconds for which the file system is not expected to change. */
  readonly invarsec: number;
}
export interface ObjAttributesResFail {
  readonly objAttributes: PostOpAttr;
}
export type FsstatResult = Nfs3Result<FsstatResOk, ObjAttributesResFail>;

// 3.3.19 FSINFO

export interface FsinfoArgs {
  readonly fsroot: Buffer;
}
export interface FsinfoResOk {
  readonly objAttributes: PostOpAttr;
  readonly rtmax: number;
  readonly rtpref: number;
  readonly rtmult: number;
  readonly wtmax: number;
  readonly wtpref: number;
  readonly wtmult: number;
  readonly dtpref: number;
  readonly maxfilesize: bigint;
  readonly timeDelta: Timestamp;
  /** FSF3_* bits. */
  readonly properties: number;
}
export type FsinfoResult = Nfs3Result<FsinfoResOk, ObjAttributesResFail>;

// 3.3.20 PATHCONF

export interface PathconfArgs {
  readonly object: Buffer;
}
export interface PathconfResOk {
  readonly objAttributes: PostOpAttr;
  readonly linkmax: number;
  readonly nameMax: number;
  readonly noTrunc: boolean;
  readonly chownRestricted: boolean;
  readonly caseInsensitive: boolean;
  readonly casePreserving: boolean;
}
export type PathconfResult = Nfs3Result<PathconfResOk, ObjAttributesResFail>;

// 3.3.21 COMMIT

export interface CommitArgs {
  readonly file: Buffer;
  readonly offset: bigint;
  readonly count: number;
}
export interface CommitResOk {
  readonly fileWcc: WccData;
  readonly verf: Buffer;
}
export interface CommitResFail {
  readonly fileWcc: WccData;
}
export type CommitResult = Nfs3Result<CommitResOk, CommitResFail>;
