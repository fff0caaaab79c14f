// CREATE (RFC 1813 3.3.8): a regular file, UNCHECKED, GUARDED or EXCLUSIVE. Storage keeps the
// exclusive verifier with the file, so a retransmitted exclusive CREATE succeeds even when the
// duplicate-request cache has forgotten it.
import { decodeCreateArgs } from '../arguments.js';
import { encodeCreateResult } from '../results.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { CreateArgs, CreateResult } from '../types.js';
import { createFailed, createIn } from './created-object.js';

export const create: NfsProcedure<CreateArgs, CreateResult> = {
  name: 'CREATE',
  decode: decodeCreateArgs,
  encode: encodeCreateResult,
  handle: (args) => args.where.dir,
  mutates: true,
  cacheable: true,
  run: (request, { where, how }) =>
    createIn(request, where, (directory) => request.volume.create(request.caller, directory, where.name, how)),
  fail: (request, args, status) => createFailed(request, args.where, status),
};
