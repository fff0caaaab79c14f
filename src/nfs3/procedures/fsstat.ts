// FSSTAT (RFC 1813 3.3.18): the real capacity of the file system backing the volume.
import { decodeFsstatArgs } from '../arguments.js';
import { encodeFsstatResult } from '../results.js';
import { nfsstat3 } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { FsstatArgs, FsstatResult } from '../types.js';

export const fsstat: NfsProcedure<FsstatArgs, FsstatResult> = {
  name: 'FSSTAT',
  decode: decodeFsstatArgs,
  encode: encodeFsstatResult,
  handle: (args) => args.fsroot,
  mutates: false,
  cacheable: false,
  async run(request, args) {
    const fileid = request.fileid(args.fsroot);
    const stats = await request.volume.fsstat();
    return {
      status: nfsstat3.NFS3_OK,
      objAttributes: request.attributes(fileid),
      tbytes: stats.totalBytes,
      fbytes: stats.freeBytes,
      abytes: stats.availableBytes,
      tfiles: stats.totalFiles,
      ffiles: stats.freeFiles,
      afiles: stats.availableFiles,
      invarsec: 0,
    };
  },
  fail: (request, args, status) => ({ status, objAttributes: request?.attributesOf(args.fsroot) }),
};
