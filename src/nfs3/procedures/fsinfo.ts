// FSINFO (RFC 1813 3.3.19): the server's limits and preferences, from the named constants the
// other procedures enforce (rtmax, wtmax, READDIR size), and the largest file size storage
// holds (2^63 - 1: sizes live in the metadata, contents are sparse).
import { decodeFsinfoArgs } from '../arguments.js';
import { encodeFsinfoResult } from '../results.js';
import {
  FSF3_CANSETTIME,
  FSF3_HOMOGENEOUS,
  FSF3_LINK,
  FSF3_SYMLINK,
  nfsstat3,
  READDIR_BYTES_MAX,
  READ_BYTES_MAX,
  WRITE_BYTES_MAX,
} from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { FsinfoArgs, FsinfoResult } from '../types.js';

export const FILE_BYTES_MAX = 2n ** 63n - 1n;
const BLOCK_BYTES = 4096;

export const fsinfo: NfsProcedure<FsinfoArgs, FsinfoResult> = {
  name: 'FSINFO',
  decode: decodeFsinfoArgs,
  encode: encodeFsinfoResult,
  handle: (args) => args.fsroot,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const fileid = request.fileid(args.fsroot);
    return {
      status: nfsstat3.NFS3_OK,
      objAttributes: request.attributes(fileid),
      rtmax: READ_BYTES_MAX,
      rtpref: READ_BYTES_MAX,
      rtmult: BLOCK_BYTES,
      wtmax: WRITE_BYTES_MAX,
      wtpref: WRITE_BYTES_MAX,
      wtmult: BLOCK_BYTES,
      dtpref: READDIR_BYTES_MAX,
      maxfilesize: FILE_BYTES_MAX,
      timeDelta: { seconds: 0, nanoseconds: 1 },
      properties: FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME,
    };
  },
  fail: (request, args, status) => ({ status, objAttributes: request?.attributesOf(args.fsroot) }),
};
