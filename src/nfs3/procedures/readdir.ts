// READDIR (RFC 1813 3.3.16): names and fileids of a directory, up to the client's count
// (capped at READDIR_BYTES_MAX), counting all XDR overhead of the reply.
import { decodeReaddirArgs } from '../arguments.js';
import { encodeReaddirResult, entry3Bytes, readdirResOkBaseBytes } from '../results.js';
import { nfsstat3, READDIR_BYTES_MAX } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { ReaddirArgs, ReaddirResult } from '../types.js';
import { listDirectory } from './directory-listing.js';

/** The smallest entry: value-follows, fileid, an empty name, cookie. */
const ENTRY3_BYTES_MIN = 24;
const STATUS_BYTES = 4;

export const readdir: NfsProcedure<ReaddirArgs, ReaddirResult> = {
  name: 'READDIR',
  decode: decodeReaddirArgs,
  encode: encodeReaddirResult,
  handle: (args) => args.dir,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const budget = Math.min(args.count, READDIR_BYTES_MAX);
    let used = STATUS_BYTES + readdirResOkBaseBytes(request.attributesOf(args.dir));
    const listing = listDirectory(request, args.dir, args.cookie, args.cookieverf, false, budget / ENTRY3_BYTES_MIN, (entry) => {
      const bytes = entry3Bytes(entry);
      if (used + bytes > budget) return false;
      used += bytes;
      return true;
    });
    return {
      status: nfsstat3.NFS3_OK,
      dirAttributes: listing.dirAttributes,
      cookieverf: listing.cookieverf,
      entries: listing.entries,
      eof: listing.eof,
    };
  },
  fail: (request, args, status) => ({ status, dirAttributes: request?.attributesOf(args.dir) }),
};
