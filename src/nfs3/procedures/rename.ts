// RENAME (RFC 1813 3.3.14): atomically moves a name, replacing the target as rename(2) does.
// Across volumes: NFS3ERR_XDEV. '.' and '..' cannot be moved or replaced: NFS3ERR_INVAL.
import { decodeRenameArgs } from '../arguments.js';
import { encodeRenameResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { check, checkName, NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { RenameArgs, RenameResult } from '../types.js';

export const rename: NfsProcedure<RenameArgs, RenameResult> = {
  name: 'RENAME',
  decode: decodeRenameArgs,
  encode: encodeRenameResult,
  handle: (args) => args.from.dir,
  mutates: true,
  cacheable: true,
  run(request, { from, to }) {
    if (request.isOtherVolume(to.dir)) throw new NfsStatusError(nfsstat3.NFS3ERR_XDEV);
    const fromDirectory = request.fileid(from.dir);
    const toDirectory = request.fileid(to.dir);
    check(checkName(from.name, 'invalid') ?? checkName(to.name, 'invalid'));
    const fromBefore = request.before(fromDirectory);
    const toBefore = request.before(toDirectory);
    request.volume.rename(request.caller, fromDirectory, from.name, toDirectory, to.name);
    return {
      status: nfsstat3.NFS3_OK,
      fromDirWcc: { before: fromBefore, after: request.attributes(fromDirectory) },
      toDirWcc: { before: toBefore, after: request.attributes(toDirectory) },
    };
  },
  fail: (request, args, status) => ({
    status,
    fromDirWcc: request?.wccAfter(args.from.dir) ?? {},
    toDirWcc: request?.wccAfter(args.to.dir) ?? {},
  }),
};
