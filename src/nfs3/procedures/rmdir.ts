// RMDIR (RFC 1813 3.3.13): an empty directory. '.' is NFS3ERR_INVAL and '..' NFS3ERR_NOTEMPTY,
// as rmdir(2) answers on Linux.
import { decodeRmdirArgs } from '../arguments.js';
import { encodeRmdirResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { check, checkName, NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { RmdirArgs, RmdirResult } from '../types.js';

export const rmdir: NfsProcedure<RmdirArgs, RmdirResult> = {
  name: 'RMDIR',
  decode: decodeRmdirArgs,
  encode: encodeRmdirResult,
  handle: (args) => args.object.dir,
  mutates: true,
  cacheable: true,
  run(request, { object }) {
    const directory = request.fileid(object.dir);
    check(checkName(object.name, 'storage'));
    if (object.name === '.') throw new NfsStatusError(nfsstat3.NFS3ERR_INVAL);
    if (object.name === '..') throw new NfsStatusError(nfsstat3.NFS3ERR_NOTEMPTY);
    const before = request.before(directory);
    request.volume.rmdir(request.caller, directory, object.name);
    return { status: nfsstat3.NFS3_OK, dirWcc: { before, after: request.attributes(directory) } };
  },
  fail: (request, args, status) => ({ status, dirWcc: request?.wccAfter(args.object.dir) ?? {} }),
};
