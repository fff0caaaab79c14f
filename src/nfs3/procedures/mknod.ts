// MKNOD (RFC 1813 3.3.11): a character or block device, a socket or a FIFO; asked for a
// regular file, directory or symlink it answers NFS3ERR_BADTYPE.
import { decodeMknodArgs } from '../arguments.js';
import { encodeMknodResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { MknodArgs, MknodData, MknodResult } from '../types.js';
import { createFailed, createIn } from './created-object.js';

export const mknod: NfsProcedure<MknodArgs, MknodResult> = {
  name: 'MKNOD',
  decode: decodeMknodArgs,
  encode: encodeMknodResult,
  handle: (args) => args.where.dir,
  mutates: true,
  cacheable: true,
  run(request, { where, what }) {
    if (what.type === 'reg' || what.type === 'dir' || what.type === 'lnk') throw new NfsStatusError(nfsstat3.NFS3ERR_BADTYPE);
    const node = what as Exclude<MknodData, { type: 'reg' | 'dir' | 'lnk' }>;
    const rdev = node.type === 'chr' || node.type === 'blk' ? node.rdev : { major: 0, minor: 0 };
    return createIn(request, where, (directory) =>
      request.volume.mknod(request.caller, directory, where.name, node.type, node.attributes, rdev),
    );
  },
  fail: (request, args, status) => createFailed(request, args.where, status),
};
