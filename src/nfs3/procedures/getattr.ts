// GETATTR (RFC 1813 3.3.1): the attributes of a file system object.
import { decodeGetattrArgs } from '../arguments.js';
import { encodeGetattrResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { GetattrArgs, GetattrResult } from '../types.js';

export const getattr: NfsProcedure<GetattrArgs, GetattrResult> = {
  name: 'GETATTR',
  decode: decodeGetattrArgs,
  encode: encodeGetattrResult,
  handle: (args) => args.object,
  mutates: false,
  cacheable: false,
  run(request, args) {
    return { status: nfsstat3.NFS3_OK, objAttributes: request.volume.getattr(request.fileid(args.object)) };
  },
  fail: (_request, _args, status) => ({ status }),
};
