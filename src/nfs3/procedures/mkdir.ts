// MKDIR (RFC 1813 3.3.9): a directory.
import { decodeMkdirArgs } from '../arguments.js';
import { encodeMkdirResult } from '../results.js';
import type { NfsProcedure } from '../nfs-procedure.js';
import type { MkdirArgs, MkdirResult } from '../types.js';
import { createFailed, createIn } from './created-object.js';

export const mkdir: NfsProcedure<MkdirArgs, MkdirResult> = {
  name: 'MKDIR',
  decode: decodeMkdirArgs,
  encode: encodeMkdirResult,
  handle: (args) => args.where.dir,
  mutates: true,
  cacheable: true,
  run: (request, { where, attributes }) =>
    createIn(request, where, (directory) => request.volume.mkdir(request.caller, directory, where.name, attributes)),
  fail: (request, args, status) => createFailed(request, args.where, status),
};
