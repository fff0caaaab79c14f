// READDIRPLUS (RFC 1813 3.3.17): READDIR with each entry's attributes and handle. Two budgets:
// `maxcount` bounds the whole reply (capped at READDIR_BYTES_MAX); `dircount` bounds the
// directory information alone (fileid, name, cookie), as 3.3.17 defines it.
import { decodeReaddirplusArgs } from '../arguments.js';
import { encodeReaddirplusResult, entry3Bytes, entryplus3Bytes, readdirResOkBaseBytes } from '../results.js';
import { nfsstat3, READDIR_BYTES_MAX } from '../constants.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { Entryplus3, ReaddirplusArgs, ReaddirplusResult } from '../types.js';
import { listDirectory } from './directory-listing.js';

const STATUS_BYTES = 4;

export const readdirplus: NfsProcedure<ReaddirplusArgs, ReaddirplusResult> = {
  name: 'READDIRPLUS',
  decode: decodeReaddirplusArgs,
  encode: encodeReaddirplusResult,
  handle: (args) => args.dir,
  mutates: false,
  cacheable: false,
  run(request, args) {
    const budget = Math.min(args.maxcount, READDIR_BYTES_MAX);
    const dirAttributes = request.attributesOf(args.dir);
    let used = STATUS_BYTES + readdirResOkBaseBytes(dirAttributes);
    let directoryBytes = 0;
    const entries: Entryplus3[] = [];
    // A listed entry, with its attributes and handle, is an entryplus3 as it is.
    const take = (entry: Entryplus3): boolean => {
      const bytes = entryplus3Bytes(entry);
      const dirBytes = entry3Bytes(entry);
      if (used + bytes > budget || directoryBytes + dirBytes > args.dircount) return false;
      used += bytes;
      directoryBytes += dirBytes;
      entries.push(entry);
      return true;
    };
    // Storage is asked for as many rows as could fit, and one more, so a page is one query: a
    // guess at a typical entry fell a few rows short, and a second query for them was half of a
    // warm READDIRPLUS. The smallest entry has an empty name, attributes, and a handle as long as
    // the directory's own (a volume's handles are alike; a wrong guess only costs that query).
    const smallest = entryplus3Bytes({ fileid: 0n, name: '', cookie: 0n, attributes: dirAttributes, handle: args.dir });
    const rows = Math.min((budget - used) / smallest, args.dircount / entry3Bytes({ fileid: 0n, name: '', cookie: 0n }));
    const listing = listDirectory(request, args.dir, args.cookie, args.cookieverf, true, Math.floor(rows) + 1, take);
    return {
      status: nfsstat3.NFS3_OK,
      dirAttributes: listing.dirAttributes,
      cookieverf: listing.cookieverf,
      entries,
      eof: listing.eof,
    };
  },
  fail: (request, args, status) => ({ status, dirAttributes: request?.attributesOf(args.dir) }),
};
