// What one NFSv3 procedure declares (one file per procedure in procedures/), and the wrapper
// that turns it into a dispatch row. The flags are enforced here once for every procedure:
// the handle names the export (unknown: NFS3ERR_STALE or NFS3ERR_BADHANDLE); the client must
// match the export's rules (NFS3ERR_ACCES); `mutates` on a read-only export is NFS3ERR_ROFS;
// `cacheable` puts replies in the duplicate-request cache. Storage errors and failed checks
// become the procedure's failure arm through its `fail`, except 'fenced', which drops the call
// unanswered. Layer: nfs3.

import type { XdrReader, XdrWriter } from '../xdr/index.js';
import { DROP, procedure, type CallContext, type Drop, type ProcedureRow } from '../rpc/program.js';
import { clientRule, type ExportTable } from '../exports/export-table.js';
import { squashCaller } from '../exports/squash.js';
import { StorageError } from '../storage/types.js';
import { isHandleOfOurFormat } from '../storage/handle-routing.js';
import { nfsstat3, type Nfsstat3Error } from './constants.js';
import { NfsRequest, NfsStatusError } from './nfs-request.js';
import { nfsstatOf } from './status.js';

export interface NfsProcedure<Args, Result> {
  readonly name: string;
  readonly decode: (reader: XdrReader) => Args;
  readonly encode: (writer: XdrWriter, result: Result) => void;
  /** The handle whose volume the call addresses. */
  readonly handle: (args: Args) => Buffer;
  /** Changes the file system: refused on read-only exports. */
  readonly mutates: boolean;
  /** Non-idempotent: kept in the duplicate-request cache. */
  readonly cacheable: boolean;
  run(request: NfsRequest, args: Args): Result | Promise<Result>;
  /** The failure arm for `status`; `request` is undefined when the export is not known. */
  fail(request: NfsRequest | undefined, args: Args, status: Nfsstat3Error): Result;
}

export function nfsRow<Args, Result>(definition: NfsProcedure<Args, Result>, exports: ExportTable): ProcedureRow {
  return procedure<Args, Result>({
    name: definition.name,
    cacheable: definition.cacheable,
    decode: definition.decode,
    encode: definition.encode,
    target: definition.handle,
    handle: (context, args) => runProcedure(definition, exports, context, args),
  });
}

async function runProcedure<Args, Result>(
  definition: NfsProcedure<Args, Result>,
  exports: ExportTable,
  context: CallContext,
  args: Args,
): Promise<Result | Drop> {
  const handle = definition.handle(args);
  const export_ = exports.byHandle(handle);
  if (export_ === undefined) {
    // Not our format: BADHANDLE. Ours, for a volume not exported here: a file system that went away.
    return definition.fail(undefined, args, isHandleOfOurFormat(handle) ? nfsstat3.NFS3ERR_STALE : nfsstat3.NFS3ERR_BADHANDLE);
  }
  const rule = clientRule(export_, context.client.address);
  if (rule === undefined) return definition.fail(undefined, args, nfsstat3.NFS3ERR_ACCES);
  const request = new NfsRequest(context, export_, squashCaller(context.header.credential, rule), rule);
  if (definition.mutates && request.readOnly) return definition.fail(request, args, nfsstat3.NFS3ERR_ROFS);
  try {
    // Most procedures answer at once (their wait is the commit below): no await, no extra turn.
    const ran = definition.run(request, args);
    const result = ran instanceof Promise ? await ran : ran;
    // Nothing is answered before what it shows is on stable storage (group commit, metadata-store.ts).
    const committed = request.volume.committed();
    if (committed !== undefined) await committed;
    return result;
  } catch (error) {
    // This node no longer holds the volume: no answer at all, so the client retransmits to the
    // node that does (docs/design/fencing.md).
    if (error instanceof StorageError) {
      const { code } = error;
      if (code === 'fenced') return DROP;
      if (code === 'io') export_.onStorageError?.(error.message);
      return definition.fail(request, args, nfsstatOf(code));
    }
    if (error instanceof NfsStatusError) return definition.fail(request, args, error.status);
    throw error;
  }
}
