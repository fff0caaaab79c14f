// One NFS call as the procedures see it: the export and volume it addresses, the caller after
// squashing, and helpers for the attributes every reply carries (post_op_attr, wcc_data).
// Layer: nfs3. Attribute helpers swallow storage errors because RFC 1813 2.6 makes these
// attributes optional: a reply may always say "no attributes".

import type { CallContext } from '../rpc/program.js';
import type { Export } from '../exports/export-table.js';
import type { ClientRule } from '../exports/client-rules.js';
import type { Attributes, Caller, Volume } from '../storage/types.js';
import { StorageError } from '../storage/types.js';
import { volumeIdOfHandle } from '../storage/handle-routing.js';
import { nfsstat3, NAME_BYTES_MAX, type Nfsstat3Error } from './constants.js';
import type { PostOpAttr, WccAttr, WccData } from './types.js';

export class NfsRequest {
  readonly call: CallContext;
  readonly export: Export;
  readonly volume: Volume;
  readonly caller: Caller;
  readonly rule: ClientRule;

  constructor(call: CallContext, export_: Export, caller: Caller, rule: ClientRule) {
    this.call = call;
    this.export = export_;
    this.volume = export_.volume;
    this.caller = caller;
    this.rule = rule;
  }

  get readOnly(): boolean {
    return this.rule.access === 'ro';
  }

  /** The fileid a handle names; throws StorageError 'bad-handle' or 'stale'. */
  fileid(handle: Buffer): bigint {
    return this.volume.resolveHandle(handle);
  }

  /** True when `handle` names a file of another volume than this call's (RENAME, LINK: XDEV). */
  isOtherVolume(handle: Buffer): boolean {
    const id = volumeIdOfHandle(handle);
    return id !== undefined && !id.equals(this.volume.identity.id);
  }

  attributes(fileid: bigint): PostOpAttr {
    try {
      return this.volume.getattr(fileid);
    } catch (error) {
      if (error instanceof StorageError) return undefined;
      throw error;
    }
  }

  /** post_op_attr of the file a handle names, if it can be had. */
  attributesOf(handle: Buffer): PostOpAttr {
    try {
      return this.volume.getattr(this.volume.resolveHandle(handle));
    } catch (error) {
      if (error instanceof StorageError) return undefined;
      throw error;
    }
  }

  /** pre_op_attr: what wcc_data needs of the attributes before an operation. */
  before(fileid: bigint): WccAttr | undefined {
    const attributes = this.attributes(fileid);
    return attributes === undefined ? undefined : wccAttr(attributes);
  }

  /** wcc_data with the attributes after the operation only (failure paths). */
  wccAfter(handle: Buffer): WccData {
    return { after: this.attributesOf(handle) };
  }
}

export function wccAttr(attributes: Attributes): WccAttr {
  return { size: attributes.size, mtime: attributes.mtime, ctime: attributes.ctime };
}

/**
 * RFC 1813 3.2: a name must not be empty (NFS3ERR_ACCES), must not exceed name_max with
 * no_trunc set (NFS3ERR_NAMETOOLONG). A '/' or NUL cannot be part of a name in a POSIX
 * directory; like the empty name, the server cannot accept it: NFS3ERR_ACCES.
 * `dots`: what '.' and '..' mean for the procedure ('alias': LOOKUP resolves them; 'exists':
 * they always exist, so creating them fails; 'invalid': RENAME cannot move them).
 */
export function checkName(name: string, dots: 'alias' | 'exists' | 'invalid' | 'storage'): Nfsstat3Error | undefined {
  if (name.length === 0 || name.includes('/') || name.includes('\0')) return nfsstat3.NFS3ERR_ACCES;
  if (name.length > NAME_BYTES_MAX) return nfsstat3.NFS3ERR_NAMETOOLONG;
  if (name === '.' || name === '..') {
    if (dots === 'exists') return nfsstat3.NFS3ERR_EXIST;
    if (dots === 'invalid') return nfsstat3.NFS3ERR_INVAL;
  }
  return undefined;
}

/** Thrown by a procedure to end with a given status; `fail` builds the reply. */
export class NfsStatusError extends Error {
  readonly status: Nfsstat3Error;
  constructor(status: Nfsstat3Error, message = `status ${status}`) {
    super(message);
    this.name = 'NfsStatusError';
    this.status = status;
  }
}

/** Throws NfsStatusError when `status` is set (a failed check). */
export function check(status: Nfsstat3Error | undefined): void {
  if (status !== undefined) throw new NfsStatusError(status);
}
