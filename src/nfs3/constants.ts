// NFS version 3 wire constants (RFC 1813 sections 2.2, 2.5, 2.6 and 3.3) and the server's own
// limits. Layer: nfs3. Constants keep the RFC's spelling and write every number out, so this
// file can be checked against the RFC line by line; the server's limits are named here so that
// every bound the codec and the handlers apply has one definition.

import type { FileType, Stability } from '../storage/types.js';

/** RFC 1813 section 2: the RPC program and version. */
export const NFS_PROGRAM = 100003;
export const NFS_V3 = 3;

/** RFC 1813 3.3: procedure numbers. */
export const NFSPROC3 = {
  NULL: 0,
  GETATTR: 1,
  SETATTR: 2,
  LOOKUP: 3,
  ACCESS: 4,
  READLINK: 5,
  READ: 6,
  WRITE: 7,
  CREATE: 8,
  MKDIR: 9,
  SYMLINK: 10,
  MKNOD: 11,
  REMOVE: 12,
  RMDIR: 13,
  RENAME: 14,
  LINK: 15,
  READDIR: 16,
  READDIRPLUS: 17,
  FSSTAT: 18,
  FSINFO: 19,
  PATHCONF: 20,
  COMMIT: 21,
} as const;

export type Nfsproc3 = (typeof NFSPROC3)[keyof typeof NFSPROC3];

/** RFC 1813 2.6: nfsstat3. */
export const nfsstat3 = {
  NFS3_OK: 0,
  NFS3ERR_PERM: 1,
  NFS3ERR_NOENT: 2,
  NFS3ERR_IO: 5,
  NFS3ERR_NXIO: 6,
  NFS3ERR_ACCES: 13,
  NFS3ERR_EXIST: 17,
  NFS3ERR_XDEV: 18,
  NFS3ERR_NODEV: 19,
  NFS3ERR_NOTDIR: 20,
  NFS3ERR_ISDIR: 21,
  NFS3ERR_INVAL: 22,
  NFS3ERR_FBIG: 27,
  NFS3ERR_NOSPC: 28,
  NFS3ERR_ROFS: 30,
  NFS3ERR_MLINK: 31,
  NFS3ERR_NAMETOOLONG: 63,
  NFS3ERR_NOTEMPTY: 66,
  NFS3ERR_DQUOT: 69,
  NFS3ERR_STALE: 70,
  NFS3ERR_REMOTE: 71,
  NFS3ERR_BADHANDLE: 10001,
  NFS3ERR_NOT_SYNC: 10002,
  NFS3ERR_BAD_COOKIE: 10003,
  NFS3ERR_NOTSUPP: 10004,
  NFS3ERR_TOOSMALL: 10005,
  NFS3ERR_SERVERFAULT: 10006,
  NFS3ERR_BADTYPE: 10007,
  NFS3ERR_JUKEBOX: 10008,
} as const;

export type Nfsstat3 = (typeof nfsstat3)[keyof typeof nfsstat3];
/** Every status but NFS3_OK: the discriminant of a result's resfail arm. */
export type Nfsstat3Error = Exclude<Nfsstat3, typeof nfsstat3.NFS3_OK>;

/** RFC 1813 2.6: ftype3. */
export const ftype3 = {
  NF3REG: 1,
  NF3DIR: 2,
  NF3BLK: 3,
  NF3CHR: 4,
  NF3LNK: 5,
  NF3SOCK: 6,
  NF3FIFO: 7,
} as const;

export type Ftype3 = (typeof ftype3)[keyof typeof ftype3];

/** Storage's file types onto ftype3 (storage lists them in ftype3 order). */
export const FTYPE3_OF_FILE_TYPE: Readonly<Record<FileType, Ftype3>> = {
  reg: ftype3.NF3REG,
  dir: ftype3.NF3DIR,
  blk: ftype3.NF3BLK,
  chr: ftype3.NF3CHR,
  lnk: ftype3.NF3LNK,
  sock: ftype3.NF3SOCK,
  fifo: ftype3.NF3FIFO,
};

/** RFC 1813 3.3.7: stable_how. */
export const stable_how = {
  UNSTABLE: 0,
  DATA_SYNC: 1,
  FILE_SYNC: 2,
} as const;

export type StableHow = (typeof stable_how)[keyof typeof stable_how];

/** Storage's stability levels onto stable_how. */
export const STABLE_HOW_OF_STABILITY: Readonly<Record<Stability, StableHow>> = {
  unstable: stable_how.UNSTABLE,
  'data-sync': stable_how.DATA_SYNC,
  'file-sync': stable_how.FILE_SYNC,
};

/** RFC 1813 3.3.8: createmode3. */
export const createmode3 = {
  UNCHECKED: 0,
  GUARDED: 1,
  EXCLUSIVE: 2,
} as const;

/** RFC 1813 2.6: time_how (sattr3's set_atime and set_mtime). */
export const time_how = {
  DONT_CHANGE: 0,
  SET_TO_SERVER_TIME: 1,
  SET_TO_CLIENT_TIME: 2,
} as const;

/** RFC 1813 3.3.4: ACCESS bits. */
export const ACCESS3_READ = 0x0001;
export const ACCESS3_LOOKUP = 0x0002;
export const ACCESS3_MODIFY = 0x0004;
export const ACCESS3_EXTEND = 0x0008;
export const ACCESS3_DELETE = 0x0010;
export const ACCESS3_EXECUTE = 0x0020;

/** RFC 1813 3.3.19: FSINFO properties bits. */
export const FSF3_LINK = 0x0001;
export const FSF3_SYMLINK = 0x0002;
export const FSF3_HOMOGENEOUS = 0x0008;
export const FSF3_CANSETTIME = 0x0010;

/** RFC 1813 2.4: sizes in bytes. */
export const NFS3_FHSIZE = 64;
export const NFS3_COOKIEVERFSIZE = 8;
export const NFS3_CREATEVERFSIZE = 8;
export const NFS3_WRITEVERFSIZE = 8;

/** The longest name (one path component) the server accepts; longer is NFS3ERR_NAMETOOLONG. */
export const NAME_BYTES_MAX = 255;
/** The longest symbolic link target the server accepts; longer is NFS3ERR_NAMETOOLONG. */
export const PATH_BYTES_MAX = 1024;
/** FSINFO rtmax: the most a READ returns. */
export const READ_BYTES_MAX = 1048576;
/** FSINFO wtmax: the most a WRITE writes; more data is written short (RFC 1813 3.3.7). */
export const WRITE_BYTES_MAX = 1048576;
/** The cap the server puts on a READDIR count or READDIRPLUS maxcount. */
export const READDIR_BYTES_MAX = 65536;

/**
 * Wire bound on a name: filename3 is `string<>` (RFC 1813 2.5), so a name longer than
 * NAME_BYTES_MAX is well-formed and earns NFS3ERR_NAMETOOLONG from the handler; only names
 * beyond this generous bound are treated as garbage.
 */
export const NAME_WIRE_BYTES_MAX = 1024;
/** Wire bound on an nfspath3 (a symlink target); the handler checks PATH_BYTES_MAX. */
export const PATH_WIRE_BYTES_MAX = 4096;
/**
 * Wire bound on WRITE data (opaque<>): data beyond WRITE_BYTES_MAX is well-formed and earns a
 * short write from the handler, as Linux nfsd does; the RPC record limit stops anything much
 * larger before it is decoded.
 */
export const WRITE_WIRE_BYTES_MAX = 2097152;
