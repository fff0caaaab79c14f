// WRITE (RFC 1813 3.3.7): bytes to a regular file, at the stability the client asks for or
// better; the reply carries the volume's write verifier, which changes only when acknowledged
// UNSTABLE data may have been lost. A count above wtmax is written short (WRITE_BYTES_MAX
// bytes, as FSINFO's wtmax promises); a count that disagrees with the data sent is
// NFS3ERR_INVAL.
import { decodeWriteArgs } from '../arguments.js';
import { encodeWriteResult } from '../results.js';
import { nfsstat3, WRITE_BYTES_MAX } from '../constants.js';
import { NfsStatusError } from '../nfs-request.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { WriteArgs, WriteResult } from '../types.js';
import { byteLength, firstBytes } from '../../platform/chunks.js';

export const write: NfsProcedure<WriteArgs, WriteResult> = {
  name: 'WRITE',
  decode: decodeWriteArgs,
  encode: encodeWriteResult,
  handle: (args) => args.file,
  mutates: true,
  cacheable: false,
  async run(request, args) {
    const fileid = request.fileid(args.file);
    const sent = byteLength(args.data);
    if (args.count !== sent) throw new NfsStatusError(nfsstat3.NFS3ERR_INVAL);
    const count = Math.min(sent, WRITE_BYTES_MAX);
    const data = count < sent ? firstBytes(args.data, count) : args.data;
    const { volume } = request;
    const before = request.before(fileid);
    const committed = await volume.write(request.caller, fileid, args.offset, data, args.stable);
    return {
      status: nfsstat3.NFS3_OK,
      fileWcc: { before, after: request.attributes(fileid) },
      count,
      committed,
      verf: volume.writeVerifier,
    };
  },
  fail: (request, args, status) => ({ status, fileWcc: request?.wccAfter(args.file) ?? {} }),
};
