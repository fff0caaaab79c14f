// LOOKUP (RFC 1813 3.3.3): a name in a directory; '.' and '..' are aliases (3.2), and '..' of
// an export's root is the root itself, so a client cannot walk out of an export.
import { decodeLookupArgs } from '../arguments.js';
import { encodeLookupResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import { check, checkName } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { LookupArgs, LookupResult } from '../types.js';

export const lookup: NfsProcedure<LookupArgs, LookupResult> = {
  name: 'LOOKUP',
  decode: decodeLookupArgs,
  encode: encodeLookupResult,
  handle: (args) => args.what.dir,
  mutates: false,
  cacheable: false,
  run(request, { what }) {
    const directory = request.fileid(what.dir);
    check(checkName(what.name, 'alias'));
    const { volume } = request;
    const fileid = volume.lookup(request.caller, directory, what.name);
    return {
      status: nfsstat3.NFS3_OK,
      object: volume.fileHandle(fileid),
      objAttributes: request.attributes(fileid),
      dirAttributes: request.attributes(directory),
    };
  },
  fail: (request, args, status) => ({ status, dirAttributes: request?.attributesOf(args.what.dir) }),
};
