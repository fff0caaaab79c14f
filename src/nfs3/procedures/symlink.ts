// SYMLINK (RFC 1813 3.3.10): a symbolic link; its target is stored as given, at most
// PATH_BYTES_MAX bytes (NFS3ERR_NAMETOOLONG beyond).
import { decodeSymlinkArgs } from '../arguments.js';
import { encodeSymlinkResult } from '../results.js';
import { nfsstat3, PATH_BYTES_MAX } from '../constants.js';
import { NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { SymlinkArgs, SymlinkResult } from '../types.js';
import { createFailed, createIn } from './created-object.js';

export const symlink: NfsProcedure<SymlinkArgs, SymlinkResult> = {
  name: 'SYMLINK',
  decode: decodeSymlinkArgs,
  encode: encodeSymlinkResult,
  handle: (args) => args.where.dir,
  mutates: true,
  cacheable: true,
  run(request, { where, symlinkAttributes, symlinkData }) {
    if (symlinkData.length > PATH_BYTES_MAX) throw new NfsStatusError(nfsstat3.NFS3ERR_NAMETOOLONG);
    return createIn(request, where, (directory) =>
      request.volume.symlink(request.caller, directory, where.name, symlinkData, symlinkAttributes),
    );
  },
  fail: (request, args, status) => createFailed(request, args.where, status),
};
