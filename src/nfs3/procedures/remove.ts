// REMOVE (RFC 1813 3.3.12): a non-directory name; the file goes when its last link does, and
// its handles then answer NFS3ERR_STALE.
import { decodeRemoveArgs } from '../arguments.js';
import { encodeRemoveResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { check, checkName } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { RemoveArgs, RemoveResult } from '../types.js';

export const remove: NfsProcedure<RemoveArgs, RemoveResult> = {
  name: 'REMOVE',
  decode: decodeRemoveArgs,
  encode: encodeRemoveResult,
  handle: (args) => args.object.dir,
  mutates: true,
  cacheable: true,
  run(request, { object }) {
    const directory = request.fileid(object.dir);
    check(checkName(object.name, 'storage'));
    const before = request.before(directory);
    request.volume.remove(request.caller, directory, object.name);
    return { status: nfsstat3.NFS3_OK, dirWcc: { before, after: request.attributes(directory) } };
  },
  fail: (request, args, status) => ({ status, dirWcc: request?.wccAfter(args.object.dir) ?? {} }),
};
