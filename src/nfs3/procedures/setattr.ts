// SETATTR (RFC 1813 3.3.2): changes attributes, optionally guarded by the object's ctime
// (NFS3ERR_NOT_SYNC when it differs, so a retransmitted chmod does not undo a later one).
import { decodeSetattrArgs } from '../arguments.js';
import { encodeSetattrResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { SetattrArgs, SetattrResult } from '../types.js';

export const setattr: NfsProcedure<SetattrArgs, SetattrResult> = {
  name: 'SETATTR',
  decode: decodeSetattrArgs,
  encode: encodeSetattrResult,
  handle: (args) => args.object,
  mutates: true,
  cacheable: true,
  run(request, args) {
    const fileid = request.fileid(args.object);
    const before = request.before(fileid);
    const guard = args.guard;
    if (guard !== undefined && before !== undefined) {
      if (guard.seconds !== before.ctime.seconds || guard.nanoseconds !== before.ctime.nanoseconds) {
        throw new NfsStatusError(nfsstat3.NFS3ERR_NOT_SYNC);
      }
    }
    const after = request.volume.setattr(request.caller, fileid, args.newAttributes);
    return { status: nfsstat3.NFS3_OK, objWcc: { before, after } };
  },
  fail: (request, args, status) => ({ status, objWcc: request?.wccAfter(args.object) ?? {} }),
};
