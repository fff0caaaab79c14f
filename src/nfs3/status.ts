// The one mapping from storage's error codes to nfsstat3 (RFC 1813 2.6). Exhaustive on purpose:
// a new StorageErrorCode does not compile until it is mapped here (STYLE.md, "Errors").
// 'fenced' has no status: a fenced node sends no reply (nfs-procedure.ts drops the call).

import type { StorageErrorCode } from '../storage/types.js';
import { nfsstat3, type Nfsstat3Error } from './constants.js';

export function nfsstatOf(code: Exclude<StorageErrorCode, 'fenced'>): Nfsstat3Error {
  switch (code) {
    case 'not-found':
      return nfsstat3.NFS3ERR_NOENT;
    case 'exists':
      return nfsstat3.NFS3ERR_EXIST;
    case 'not-dir':
      return nfsstat3.NFS3ERR_NOTDIR;
    case 'is-dir':
      return nfsstat3.NFS3ERR_ISDIR;
    case 'not-empty':
      return nfsstat3.NFS3ERR_NOTEMPTY;
    case 'access':
      return nfsstat3.NFS3ERR_ACCES;
    case 'perm':
      return nfsstat3.NFS3ERR_PERM;
    case 'name-too-long':
      return nfsstat3.NFS3ERR_NAMETOOLONG;
    case 'invalid':
      return nfsstat3.NFS3ERR_INVAL;
    case 'no-space':
      return nfsstat3.NFS3ERR_NOSPC;
    case 'too-big':
      return nfsstat3.NFS3ERR_FBIG;
    case 'too-many-links':
      return nfsstat3.NFS3ERR_MLINK;
    case 'stale':
      return nfsstat3.NFS3ERR_STALE;
    case 'bad-handle':
      return nfsstat3.NFS3ERR_BADHANDLE;
    case 'not-supported':
      return nfsstat3.NFS3ERR_NOTSUPP;
    case 'io':
      return nfsstat3.NFS3ERR_IO;
  }
}
