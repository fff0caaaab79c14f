// READLINK (RFC 1813 3.3.5): the target of a symbolic link.
import { decodeReadlinkArgs } from '../arguments.js';
import { encodeReadlinkResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { ReadlinkArgs, ReadlinkResult } from '../types.js';

export const readlink: NfsProcedure<ReadlinkArgs, ReadlinkResult> = {
  name: 'READLINK',
  decode: decodeReadlinkArgs,
  encode: encodeReadlinkResult,
  handle: (args) => args.symlink,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const fileid = request.fileid(args.symlink);
    const data = request.volume.readlink(request.caller, fileid);
    return { status: nfsstat3.NFS3_OK, symlinkAttributes: request.attributes(fileid), data };
  },
  fail: (request, args, status) => ({ status, symlinkAttributes: request?.attributesOf(args.symlink) }),
};
