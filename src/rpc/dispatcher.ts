// The dispatcher: turns one record into one reply (or none). Layer: rpc.
// Order of checks, each with its RFC 5531 outcome: the call header (RPC_MISMATCH, AUTH_ERROR,
// or a drop when there is no xid to answer), the program (PROG_UNAVAIL), the version
// (PROG_MISMATCH with low/high), the procedure (PROC_UNAVAIL), the arguments (GARBAGE_ARGS),
// the program's admission (the request gate: a drop), the duplicate-request cache (replay or
// drop), and the handler (SYSTEM_ERR when it fails in a way it did not map to a result).

import { XdrDecodeError, XdrWriter } from '../xdr/index.js';
import type { Logger } from '../platform/logger.js';
import { accept_stat } from './constants.js';
import { DuplicateRequestCache, type DrcKey } from './duplicate-request-cache.js';
import { acceptedErrorReply, authErrorReply, parseCall, progMismatchReply, rpcMismatchReply, writeAcceptedReplyHeader, type CallHeader } from './message.js';
import { DROP, type Admission, type CallContext, type Endpoint, type Program, type ReplyBody } from './program.js';
import { recordBytesFrom, recordHead, type RpcRecord } from './record-marking.js';

const REPLY_BYTES_INITIAL = 256;
const NO_ADMISSION: Admission = { release() {} };
const NO_CHUNKS: readonly Buffer[] = [];

export interface ConnectionInfo {
  readonly id: number;
  readonly client: Endpoint;
  readonly local: Endpoint;
}

/** One call as a program sees it; its request id, for logs, is made only when a log asks for it. */
class Call implements CallContext {
  readonly header: CallHeader;
  readonly client: Endpoint;
  readonly local: Endpoint;
  readonly log: Logger;
  readonly #connection: number;
  readonly #number: number;

  constructor(header: CallHeader, connection: ConnectionInfo, number: number, log: Logger) {
    this.header = header;
    this.client = connection.client;
    this.local = connection.local;
    this.log = log;
    this.#connection = connection.id;
    this.#number = number;
  }

  get requestId(): string {
    return requestId(this.#connection, this.#number);
  }
}

const requestId = (connection: number, call: number): string => `${connection}.${call}`;

export class Dispatcher {
  readonly #programs = new Map<number, Program>();
  readonly #drc: DuplicateRequestCache;
  readonly #log: Logger;
  #calls = 0;

  constructor(programs: readonly Program[], drc: DuplicateRequestCache, log: Logger) {
    for (const program of programs) this.#programs.set(program.number, program);
    this.#drc = drc;
    this.#log = log;
  }

  get programs(): readonly Program[] {
    return [...this.#programs.values()];
  }

  get duplicateRequestCache(): DuplicateRequestCache {
    return this.#drc;
  }

  /**
   * The reply to one record, as chunks to write, or undefined when nothing is to be sent. Not
   * itself async: an async function returning #dispatch's promise would wrap it in one more.
   */
  dispatch(record: RpcRecord, connection: ConnectionInfo): Promise<Buffer[] | undefined> {
    const call = ++this.#calls;
    if (!this.#log.isLevelEnabled('debug')) return this.#dispatch(record, connection, call);
    return this.#dispatchLogged(record, connection, call);
  }

  async #dispatchLogged(record: RpcRecord, connection: ConnectionInfo, call: number): Promise<Buffer[] | undefined> {
    const started = process.hrtime.bigint();
    const reply = await this.#dispatch(record, connection, call);
    const head = recordHead(record);
    this.#log.debug(
      {
        req: requestId(connection.id, call),
        client: `${connection.client.address}:${connection.client.port}`,
        ...(head.length >= 24 && { xid: head.readUInt32BE(0), prog: head.readUInt32BE(12), vers: head.readUInt32BE(16), proc: head.readUInt32BE(20) }),
        replyBytes: reply?.reduce((sum, chunk) => sum + chunk.length, 0) ?? 'dropped',
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      },
      'call',
    );
    return reply;
  }

  async #dispatch(record: RpcRecord, connection: ConnectionInfo, call: number): Promise<Buffer[] | undefined> {
    // A large record comes as its chunks (record-marking.ts): the first holds the headers.
    const parsed = parseCall(recordHead(record), Buffer.isBuffer(record) ? NO_CHUNKS : record.slice(1));
    switch (parsed.kind) {
      case 'drop':
        this.#log.debug({ conn: connection.id, reason: parsed.reason }, 'record dropped');
        return undefined;
      case 'rpc-mismatch':
        return [rpcMismatchReply(parsed.xid)];
      case 'auth-error':
        return [authErrorReply(parsed.xid, parsed.stat)];
      case 'garbage':
        this.#log.debug({ conn: connection.id, xid: parsed.xid, reason: parsed.reason }, 'malformed call header');
        return [acceptedErrorReply(parsed.xid, accept_stat.GARBAGE_ARGS)];
      case 'call':
        break;
    }
    const { header, args, argsOffset } = parsed;
    const { xid } = header;
    const program = this.#programs.get(header.program);
    if (program === undefined) return [acceptedErrorReply(xid, accept_stat.PROG_UNAVAIL)];
    const rows = program.procedures(header.version);
    if (rows === undefined) return [progMismatchReply(xid, program.versionLow, program.versionHigh)];
    const row = rows[header.procedure];
    if (row === undefined) return [acceptedErrorReply(xid, accept_stat.PROC_UNAVAIL)];

    const context = new Call(header, connection, call, this.#log);
    let bound;
    try {
      bound = row.bind(args);
    } catch (error) {
      if (!(error instanceof XdrDecodeError)) throw error;
      this.#log.debug({ req: context.requestId, xid, proc: `${program.name}.${row.name}`, reason: error.message }, 'garbage arguments');
      return [acceptedErrorReply(xid, accept_stat.GARBAGE_ARGS)];
    }

    const admission = program.admit?.(context, bound.target) ?? NO_ADMISSION;
    if (admission === DROP) return undefined;
    try {
      let cacheKey: DrcKey | undefined;
      if (row.cacheable) {
        cacheKey = DuplicateRequestCache.key({
          client: connection.client.address,
          xid,
          program: header.program,
          version: header.version,
          procedure: header.procedure,
          args: recordBytesFrom(record, argsOffset),
        });
        const seen = this.#drc.begin(cacheKey);
        if (seen.state === 'in-progress') return undefined;
        if (seen.state === 'done') {
          this.#log.debug({ req: context.requestId, xid, proc: `${program.name}.${row.name}` }, 'duplicate request: original reply resent');
          return [seen.reply];
        }
      }
      let body: ReplyBody | typeof DROP;
      try {
        body = await bound.run(context);
      } catch (error) {
        if (cacheKey !== undefined) this.#drc.abandon(cacheKey);
        this.#log.error({ req: context.requestId, xid, proc: `${program.name}.${row.name}`, err: error }, 'procedure failed');
        return [acceptedErrorReply(xid, accept_stat.SYSTEM_ERR)];
      }
      if (body === DROP) {
        if (cacheKey !== undefined) this.#drc.abandon(cacheKey);
        return undefined;
      }
      const writer = writeAcceptedReplyHeader(new XdrWriter(REPLY_BYTES_INITIAL), xid, accept_stat.SUCCESS);
      try {
        body.encode(writer);
      } catch (error) {
        if (cacheKey !== undefined) this.#drc.abandon(cacheKey);
        this.#log.error({ req: context.requestId, xid, proc: `${program.name}.${row.name}`, err: error }, 'reply encoding failed');
        return [acceptedErrorReply(xid, accept_stat.SYSTEM_ERR)];
      }
      const chunks = writer.finish();
      if (cacheKey !== undefined) this.#drc.complete(cacheKey, chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks));
      return chunks;
    } finally {
      admission.release();
    }
  }
}
