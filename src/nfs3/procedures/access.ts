// ACCESS (RFC 1813 3.3.4): which of the asked-for rights the caller has, truthfully: from the
// mode bits and owner (storage's POSIX check), with write rights withheld on read-only exports.
// The mapping follows Linux nfsd: LOOKUP and DELETE apply to directories, EXECUTE to files;
// MODIFY, EXTEND and DELETE on a directory need write and search permission.
import { decodeAccessArgs } from '../arguments.js';
import { encodeAccessResult } from '../results.js';
import {
  ACCESS3_DELETE,
  ACCESS3_EXECUTE,
  ACCESS3_EXTEND,
  ACCESS3_LOOKUP,
  ACCESS3_MODIFY,
  ACCESS3_READ,
  nfsstat3,
} from '../constants.js';
import { permits } from '../../storage/permissions.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { AccessArgs, AccessResult } from '../types.js';

export const access: NfsProcedure<AccessArgs, AccessResult> = {
  name: 'ACCESS',
  decode: decodeAccessArgs,
  encode: encodeAccessResult,
  handle: (args) => args.object,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const attributes = request.volume.getattr(request.fileid(args.object));
    const may = permits(request.caller, attributes);
    const writable = may.write && !request.readOnly;
    let granted = may.read ? ACCESS3_READ : 0;
    if (attributes.type === 'dir') {
      if (may.execute) granted |= ACCESS3_LOOKUP;
      if (writable && may.execute) granted |= ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE;
    } else {
      if (writable) granted |= ACCESS3_MODIFY | ACCESS3_EXTEND;
      if (may.execute) granted |= ACCESS3_EXECUTE;
    }
    return { status: nfsstat3.NFS3_OK, objAttributes: attributes, access: args.access & granted };
  },
  fail: (request, args, status) => ({ status, objAttributes: request?.attributesOf(args.object) }),
};
