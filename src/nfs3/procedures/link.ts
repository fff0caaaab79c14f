// LINK (RFC 1813 3.3.15): a hard link to a non-directory. Across volumes: NFS3ERR_XDEV.
import { decodeLinkArgs } from '../arguments.js';
import { encodeLinkResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { check, checkName, NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { LinkArgs, LinkResult } from '../types.js';

export const link: NfsProcedure<LinkArgs, LinkResult> = {
  name: 'LINK',
  decode: decodeLinkArgs,
  encode: encodeLinkResult,
  handle: (args) => args.file,
  mutates: true,
  cacheable: true,
  run(request, args) {
    if (request.isOtherVolume(args.link.dir)) throw new NfsStatusError(nfsstat3.NFS3ERR_XDEV);
    const fileid = request.fileid(args.file);
    const directory = request.fileid(args.link.dir);
    check(checkName(args.link.name, 'exists'));
    const before = request.before(directory);
    request.volume.link(request.caller, fileid, directory, args.link.name);
    return {
      status: nfsstat3.NFS3_OK,
      fileAttributes: request.attributes(fileid),
      linkDirWcc: { before, after: request.attributes(directory) },
    };
  },
  fail: (request, args, status) => ({
    status,
    fileAttributes: request?.attributesOf(args.file),
    linkDirWcc: request?.wccAfter(args.link.dir) ?? {},
  }),
};
