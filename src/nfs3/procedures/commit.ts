// COMMIT (RFC 1813 3.3.21): makes earlier UNSTABLE writes to a file stable. The verifier in the
// reply lets the client see whether the server lost them in between (3.3.7: then it must
// write them again). The range is not needed: the whole file is made stable.
import { decodeCommitArgs } from '../arguments.js';
import { encodeCommitResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { CommitArgs, CommitResult } from '../types.js';

export const commit: NfsProcedure<CommitArgs, CommitResult> = {
  name: 'COMMIT',
  decode: decodeCommitArgs,
  encode: encodeCommitResult,
  handle: (args) => args.file,
  mutates: true,
  cacheable: false,
  async run(request, args) {
    const fileid = request.fileid(args.file);
    const before = request.before(fileid);
    await request.volume.commit(fileid);
    return {
      status: nfsstat3.NFS3_OK,
      fileWcc: { before, after: request.attributes(fileid) },
      verf: request.volume.writeVerifier,
    };
  },
  fail: (request, args, status) => ({ status, fileWcc: request?.wccAfter(args.file) ?? {} }),
};
