// RPC call and reply headers (RFC 5531 section 9). Layer: rpc.
// `parseCall` reads a call header from a whole record and says what to do with it: dispatch it,
// reject it (RPC_MISMATCH, AUTH_ERROR), answer GARBAGE_ARGS, or drop it when it cannot even be
// answered (no xid, or not a CALL). The reply writers put the header before a result body.

import { XdrReader, XdrWriter, XdrDecodeError } from '../xdr/index.js';
import { AUTH_BODY_BYTES_MAX, RPC_VERSION, accept_stat, auth_flavor, auth_stat, msg_type, reject_stat, reply_stat } from './constants.js';
import type { AcceptStat, AuthStat } from './constants.js';
import { parseCredential, type Credential } from './credentials.js';

export interface CallHeader {
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly credential: Credential;
}

export type ParsedCall =
  /** `args` reads the procedure's arguments, to the end of the record. */
  | { readonly kind: 'call'; readonly header: CallHeader; readonly args: XdrReader; readonly argsOffset: number }
  | { readonly kind: 'rpc-mismatch'; readonly xid: number }
  | { readonly kind: 'auth-error'; readonly xid: number; readonly stat: AuthStat }
  | { readonly kind: 'garbage'; readonly xid: number; readonly reason: string }
  | { readonly kind: 'drop'; readonly reason: string };

/** Parses the call header of a record: `head`, then the chunks of the rest if it came in several. */
export function parseCall(head: Buffer, rest: readonly Buffer[] = []): ParsedCall {
  if (head.length < 8) return { kind: 'drop', reason: `record of ${head.length} bytes holds no call header` };
  const reader = new XdrReader(head, 0, head.length, rest);
  const xid = reader.uint32();
  const type = reader.uint32();
  if (type !== msg_type.CALL) return { kind: 'drop', reason: `message type ${type} is not CALL` };
  try {
    // RFC 5531 9: the RPC version is checked before anything else of the call is trusted.
    if (reader.uint32() !== RPC_VERSION) return { kind: 'rpc-mismatch', xid };
    const program = reader.uint32();
    const version = reader.uint32();
    const procedure = reader.uint32();
    // A credential or verifier longer than RFC 5531 allows is a bad credential; a record that
    // ends inside one is malformed (GARBAGE_ARGS below), as the Linux server answers.
    const credentialFlavor = reader.uint32();
    const credentialBytes = reader.uint32();
    if (credentialBytes > AUTH_BODY_BYTES_MAX) return { kind: 'auth-error', xid, stat: auth_stat.AUTH_BADCRED };
    const credentialBody = reader.fixedOpaque(credentialBytes);
    const verifierFlavor = reader.uint32();
    const verifierBytes = reader.uint32();
    if (verifierBytes > AUTH_BODY_BYTES_MAX) return { kind: 'auth-error', xid, stat: auth_stat.AUTH_BADVERF };
    reader.fixedOpaque(verifierBytes);
    const credential = parseCredential(credentialFlavor, credentialBody, verifierFlavor);
    if (typeof credential === 'number') return { kind: 'auth-error', xid, stat: credential };
    return { kind: 'call', header: { xid, program, version, procedure, credential }, args: reader, argsOffset: reader.offset };
  } catch (error) {
    if (error instanceof XdrDecodeError) return { kind: 'garbage', xid, reason: error.message };
    throw error;
  }
}

/** xid, REPLY, MSG_ACCEPTED, a null verifier and the accept_stat; the body follows. */
export function writeAcceptedReplyHeader(writer: XdrWriter, xid: number, stat: AcceptStat): XdrWriter {
  return writer
    .uint32(xid)
    .uint32(msg_type.REPLY)
    .uint32(reply_stat.MSG_ACCEPTED)
    .uint32(auth_flavor.AUTH_NONE)
    .uint32(0)
    .uint32(stat);
}

/** An accepted reply with no body: PROG_UNAVAIL, PROC_UNAVAIL, GARBAGE_ARGS or SYSTEM_ERR. */
export function acceptedErrorReply(
  xid: number,
  stat: typeof accept_stat.PROG_UNAVAIL | typeof accept_stat.PROC_UNAVAIL | typeof accept_stat.GARBAGE_ARGS | typeof accept_stat.SYSTEM_ERR,
): Buffer {
  return writeAcceptedReplyHeader(new XdrWriter(32), xid, stat).toBuffer();
}

/** RFC 5531 9: PROG_MISMATCH carries the lowest and highest versions supported. */
export function progMismatchReply(xid: number, low: number, high: number): Buffer {
  return writeAcceptedReplyHeader(new XdrWriter(32), xid, accept_stat.PROG_MISMATCH).uint32(low).uint32(high).toBuffer();
}

export function rpcMismatchReply(xid: number): Buffer {
  return new XdrWriter(32)
    .uint32(xid)
    .uint32(msg_type.REPLY)
    .uint32(reply_stat.MSG_DENIED)
    .uint32(reject_stat.RPC_MISMATCH)
    .uint32(RPC_VERSION)
    .uint32(RPC_VERSION)
    .toBuffer();
}

export function authErrorReply(xid: number, stat: AuthStat): Buffer {
  return new XdrWriter(24)
    .uint32(xid)
    .uint32(msg_type.REPLY)
    .uint32(reply_stat.MSG_DENIED)
    .uint32(reject_stat.AUTH_ERROR)
    .uint32(stat)
    .toBuffer();
}
