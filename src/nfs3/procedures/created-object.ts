// What CREATE, MKDIR, SYMLINK and MKNOD share (RFC 1813 3.3.8-3.3.11): a new name in a
// directory, refused for '.' and '..' (they always exist), and a reply with the new object's
// handle and attributes and the directory's wcc_data.
import { nfsstat3, type Nfsstat3Error } from '../constants.js';
import { check, checkName, type NfsRequest } from '../nfs-request.js';
import type { CreatedResFail, CreatedResOk, DirOpArgs, Nfs3Result } from '../types.js';

export type CreatedResult = Nfs3Result<CreatedResOk, CreatedResFail>;

export function createIn(request: NfsRequest, where: DirOpArgs, make: (directory: bigint) => bigint): CreatedResult {
  const directory = request.fileid(where.dir);
  check(checkName(where.name, 'exists'));
  const before = request.before(directory);
  const fileid = make(directory);
  return {
    status: nfsstat3.NFS3_OK,
    obj: request.volume.fileHandle(fileid),
    objAttributes: request.attributes(fileid),
    dirWcc: { before, after: request.attributes(directory) },
  };
}

export function createFailed(request: NfsRequest | undefined, where: DirOpArgs, status: Nfsstat3Error): CreatedResult {
  return { status, dirWcc: request?.wccAfter(where.dir) ?? {} };
}
