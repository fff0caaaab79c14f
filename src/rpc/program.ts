// What an RPC program looks like to the dispatcher: dispatch as data (STYLE.md). Each program
// is a number, a version range and one row per procedure; a row knows how to decode its
// arguments, run, and encode its result, and carries the flags the dispatcher enforces once
// for all procedures (today: whether the duplicate-request cache applies). Layer: rpc.

import type { XdrReader, XdrWriter } from '../xdr/index.js';
import type { Logger } from '../platform/logger.js';
import type { CallHeader } from './message.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface CallContext {
  readonly header: CallHeader;
  /** The client's address and port, and the local address the call arrived on. */
  readonly client: Endpoint;
  readonly local: Endpoint;
  /** Unique per call in this process, for logs. */
  readonly requestId: string;
  readonly log: Logger;
}

/** "Do not answer": the call is neither executed further nor answered (drain, duplicate in progress). */
export const DROP = Symbol('drop');
export type Drop = typeof DROP;

/** The result of a procedure, ready to be encoded after the accepted-reply header. */
export interface ReplyBody {
  encode(writer: XdrWriter): void;
}

/** A call whose arguments are decoded, bound to its procedure and ready to run. */
export interface BoundCall {
  /** What the call addresses (a file handle, an export path), for the program's admission. */
  readonly target: Buffer | string | undefined;
  run(context: CallContext): Promise<ReplyBody | Drop>;
}

export interface ProcedureRow {
  readonly name: string;
  /** Non-idempotent: replies are kept in the duplicate-request cache (RFC 5531 leaves it to us). */
  readonly cacheable: boolean;
  /** Decodes the arguments; throws XdrDecodeError on malformed input. */
  bind(args: XdrReader): BoundCall;
}

/** Permission to run a call; released once its reply is encoded. */
export interface Admission {
  release(): void;
}

export interface Program {
  readonly number: number;
  readonly name: string;
  readonly versionLow: number;
  readonly versionHigh: number;
  /** The rows of one version, indexed by procedure number; undefined for versions not served. */
  procedures(version: number): readonly (ProcedureRow | undefined)[] | undefined;
  /** Admits a call to what it addresses (the request gate), or drops it. */
  admit?(context: CallContext, target: Buffer | string | undefined): Admission | Drop;
}

interface ProcedureDefinition<Args, Result> {
  readonly name: string;
  readonly cacheable?: boolean;
  readonly decode: (reader: XdrReader) => Args;
  readonly target?: (args: Args) => Buffer | string | undefined;
  readonly handle: (context: CallContext, args: Args) => Result | Drop | Promise<Result | Drop>;
  readonly encode: (writer: XdrWriter, result: Result) => void;
}

/** One typed row of a dispatch table. */
export function procedure<Args, Result>(definition: ProcedureDefinition<Args, Result>): ProcedureRow {
  const { name, decode, target, handle, encode } = definition;
  return {
    name,
    cacheable: definition.cacheable ?? false,
    bind(reader) {
      const args = decode(reader);
      return {
        target: target?.(args),
        async run(context) {
          const result = await handle(context, args);
          if (result === DROP) return DROP;
          return { encode: (writer) => encode(writer, result) };
        },
      };
    },
  };
}
