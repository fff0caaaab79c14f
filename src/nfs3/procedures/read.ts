// READ (RFC 1813 3.3.6): bytes of a regular file. A count above rtmax is served short, with at
// most READ_BYTES_MAX bytes, as 3.3.6 and FSINFO's rtmax allow. The data goes to the socket
// by reference (never copied into the reply).
import { decodeReadArgs } from '../arguments.js';
import { encodeReadResult } from '../results.js';
import { nfsstat3, READ_BYTES_MAX } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { ReadArgs, ReadResult } from '../types.js';

export const read: NfsProcedure<ReadArgs, ReadResult> = {
  name: 'READ',
  decode: decodeReadArgs,
  encode: encodeReadResult,
  handle: (args) => args.file,
  mutates: false,
  cacheable: false,
  async run(request, args) {
    const fileid = request.fileid(args.file);
    const count = Math.min(args.count, READ_BYTES_MAX);
    const { data, eof } = await request.volume.read(request.caller, fileid, args.offset, count);
    return { status: nfsstat3.NFS3_OK, fileAttributes: request.attributes(fileid), data, eof };
  },
  fail: (request, args, status) => ({ status, fileAttributes: request?.attributesOf(args.file) }),
};
