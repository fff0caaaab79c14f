// PATHCONF (RFC 1813 3.3.20): POSIX limits of the volume: names up to NAME_BYTES_MAX bytes,
// never truncated (longer names get NFS3ERR_NAMETOOLONG), chown restricted to root,
// case-sensitive and case-preserving.
import { decodePathconfArgs } from '../arguments.js';
import { encodePathconfResult } from '../results.js';
import { NAME_BYTES_MAX, nfsstat3 } from '../constants.js';
import { LINK_COUNT_MAX } from '../../storage/volume.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { PathconfArgs, PathconfResult } from '../types.js';

export const pathconf: NfsProcedure<PathconfArgs, PathconfResult> = {
  name: 'PATHCONF',
  decode: decodePathconfArgs,
  encode: encodePathconfResult,
  handle: (args) => args.object,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const fileid = request.fileid(args.object);
    return {
      status: nfsstat3.NFS3_OK,
      objAttributes: request.attributes(fileid),
      linkmax: LINK_COUNT_MAX,
      nameMax: NAME_BYTES_MAX,
      noTrunc: true,
      chownRestricted: true,
      caseInsensitive: false,
      casePreserving: true,
    };
  },
  fail: (request, args, status) => ({ status, objAttributes: request?.attributesOf(args.object) }),
};
