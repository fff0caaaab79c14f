// ONC RPC over TCP: accepts connections on one address and port, splits the byte stream into
// records (record marking), dispatches each record and writes the replies. Layer: rpc.
//
// Limits, each a named constant: the size of one record, the calls in progress on one
// connection and the bytes of calls in progress on the whole server (past either, reading
// pauses, so a client that floods us is slowed by TCP flow control, not buffered), and the
// number of connections. Worst case held in memory: CONNECTIONS_MAX partial records of
// RECORD_BYTES_MAX plus CALL_BYTES_IN_FLIGHT_MAX of whole calls. Replies go out in the order
// they complete (RPC over TCP allows any order): those completed in one phase of the event loop
// (the socket reads and file I/O completions of a poll, the group commit that follows) together,
// as one buffer (READ data by reference beside it) in one system call (#send).

import net from 'node:net';
import { bulkBuffers } from '../platform/buffer-pool.js';
import type { Logger } from '../platform/logger.js';
import { RecordDecoder, RecordTooLargeError, recordHeader, recordLength, type RpcRecord } from './record-marking.js';
import type { ConnectionInfo, Dispatcher } from './dispatcher.js';

/** The largest record accepted: a 1 MiB WRITE plus its headers, with room to spare. */
export const RECORD_BYTES_MAX = 1024 * 1024 + 64 * 1024;
export const CALLS_IN_FLIGHT_PER_CONNECTION_MAX = 64;
export const CONNECTIONS_MAX = 1024;
/** Reply chunks smaller than this are copied into the flush's one write; larger ones (READ data) go by reference. */
const COPIED_CHUNK_BYTES_MAX = 16 * 1024;
/** Replies queued past this many bytes (a large READ) go out once their callback is done, not at the end of the phase. */
const FLUSH_AT_ONCE_BYTES = 64 * 1024;
/** Bytes of calls being executed, server-wide; one call is always admitted. */
export const CALL_BYTES_IN_FLIGHT_MAX = 256 * 1024 * 1024;

/** The server-wide budget of call bytes in flight, shared by all connections. */
export class InFlightBudget {
  readonly #bytesMax: number;
  #bytes = 0;
  readonly #waiting = new Set<() => void>();

  constructor(bytesMax = CALL_BYTES_IN_FLIGHT_MAX) {
    this.#bytesMax = bytesMax;
  }

  get exhausted(): boolean {
    return this.#bytes > this.#bytesMax;
  }

  take(bytes: number): void {
    this.#bytes += bytes;
  }

  give(bytes: number): void {
    this.#bytes -= bytes;
    if (!this.exhausted) for (const wake of this.#waiting) wake();
  }

  /** Calls `wake` whenever bytes are given back, until the returned function is called. */
  watch(wake: () => void): () => void {
    this.#waiting.add(wake);
    return () => this.#waiting.delete(wake);
  }
}

let nextConnectionId = 1;

class Connection {
  readonly info: ConnectionInfo;
  readonly #socket: net.Socket;
  readonly #dispatcher: Dispatcher;
  readonly #log: Logger;
  readonly #budget: InFlightBudget;
  readonly #decoder = new RecordDecoder(RECORD_BYTES_MAX);
  #inFlight = 0;
  #paused = false;
  #reading = true;
  /** Replies queued and not yet written, record marks included (#send, #flush). */
  #outgoing: Buffer[] = [];
  #outgoingBytes = 0;
  /** A #flush is scheduled at the end of the phase (#armFlush), or at the end of the callback. */
  #flushArmed = false;
  #flushSoon = false;
  #closed = false;
  readonly #idle: (() => void)[] = [];

  constructor(socket: net.Socket, dispatcher: Dispatcher, log: Logger, budget: InFlightBudget) {
    this.#socket = socket;
    this.#dispatcher = dispatcher;
    this.#budget = budget;
    this.info = {
      id: nextConnectionId++,
      client: { address: socket.remoteAddress ?? '?', port: socket.remotePort ?? 0 },
      local: { address: socket.localAddress ?? '?', port: socket.localPort ?? 0 },
    };
    this.#log = log.child({ conn: this.info.id });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (error) => this.#log.debug({ err: error }, 'socket error'));
    const unwatch = budget.watch(() => this.#flow());
    socket.on('close', () => {
      this.#closed = true;
      unwatch();
      this.#log.debug('connection closed');
    });
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  #onData(chunk: Buffer): void {
    let records: RpcRecord[];
    try {
      records = this.#decoder.push(chunk);
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      this.#log.warn({ client: this.info.client, err: error.message }, 'record too large: connection closed');
      this.#socket.destroy();
      return;
    }
    for (const record of records) this.#call(record);
    // Armed now, the flush runs after the group commit these calls scheduled, in the same check phase.
    if (records.length > 0) this.#armFlush();
  }

  #call(record: RpcRecord): void {
    const bytes = recordLength(record);
    this.#inFlight++;
    this.#budget.take(bytes);
    this.#flow();
    this.#dispatcher.dispatch(record, this.info).then(
      (reply) => {
        if (reply !== undefined) this.#send(reply);
        this.#answered(bytes);
      },
      (error: unknown) => {
        // A bug, not bad input: the dispatcher maps every input to an outcome.
        this.#log.fatal({ err: error }, 'dispatcher failed');
        this.#socket.destroy();
        this.#answered(bytes);
      },
    );
  }

  /** A call of `bytes` is done with (a `finally` would cost one more promise a call). */
  #answered(bytes: number): void {
    this.#inFlight--;
    this.#budget.give(bytes);
    this.#flow();
    if (this.#inFlight === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  /** Pauses reading while this connection or the server has too much in flight; resumes after. */
  #flow(): void {
    const pause = this.#inFlight >= CALLS_IN_FLIGHT_PER_CONNECTION_MAX || this.#budget.exhausted;
    if (pause === this.#paused || this.#closed || !this.#reading) return;
    this.#paused = pause;
    if (pause) this.#socket.pause();
    else this.#socket.resume();
  }

  /**
   * Queues a reply; the replies queued in one phase of the event loop go out together, at the
   * check phase that ends it (#flush on setImmediate). Once a reply has left, its pooled buffers
   * (a READ's data) go back to `bulkBuffers`; until then a reply chunk may refer to them.
   *
   * Why a phase and not a callback (process.nextTick): each file I/O completion is a callback of
   * its own, so 16 READs in flight made 16 writes, each waking the client: on a loopback pair a
   * third of node a's main thread was in those writes (perf of randread). Flushed at the check
   * phase, the completions of one poll share a write: randread 27-30,000 -> 32-39,000 a second,
   * randwrite 19-28,000 -> 31-36,000 (two alternating pairs). The replies of a group commit are
   * made in the check phase, by the commit's own immediate: the flush armed when their calls
   * arrived (#onData) is queued behind it, so they too leave in that phase and do not wait a turn
   * behind the next socket reads (when the flush was a plain setImmediate, that wait cost setattr
   * about 39,000 -> 34,000 a second). A large reply (a 1 MiB READ) gains nothing from sharing a
   * write: it goes out as soon as its callback is done.
   */
  #send(chunks: Buffer[]): void {
    if (this.#closed || this.#socket.destroyed) return;
    let bytes = 0;
    for (const chunk of chunks) bytes += chunk.length;
    this.#outgoing.push(recordHeader(bytes));
    for (const chunk of chunks) this.#outgoing.push(chunk);
    this.#outgoingBytes += bytes;
    if (this.#outgoingBytes < FLUSH_AT_ONCE_BYTES) this.#armFlush();
    else if (!this.#flushSoon) {
      // Sharing a write saves nothing beside a large reply; waiting for the phase to end costs its time.
      this.#flushSoon = true;
      process.nextTick(() => {
        this.#flushSoon = false;
        this.#flush();
      });
    }
  }

  #armFlush(): void {
    if (this.#flushArmed) return;
    this.#flushArmed = true;
    setImmediate(() => {
      this.#flushArmed = false;
      this.#flush();
    });
  }

  /**
   * Writes the replies queued together. Small chunks (headers, attributes, whole metadata
   * replies) are copied into one buffer per run of them, large ones (READ data) go by
   * reference: a metadata turn of 16 replies is one write of one buffer, where a write per
   * chunk cost about a tenth of a SETATTR. Writes complete in order, so the last one's callback
   * means every reply of the flush has left.
   */
  #flush(): void {
    const outgoing = this.#outgoing;
    this.#outgoing = [];
    this.#outgoingBytes = 0;
    if (outgoing.length === 0 || this.#closed || this.#socket.destroyed || this.#socket.writableEnded) return;
    const writes: Buffer[] = [];
    let run: Buffer[] = [];
    let runBytes = 0;
    const endRun = () => {
      if (run.length === 1) writes.push(run[0]!);
      else if (run.length > 1) writes.push(Buffer.concat(run, runBytes));
      run = [];
      runBytes = 0;
    };
    for (const chunk of outgoing) {
      if (chunk.length >= COPIED_CHUNK_BYTES_MAX) {
        endRun();
        writes.push(chunk);
      } else {
        run.push(chunk);
        runBytes += chunk.length;
      }
    }
    endRun();
    const last = writes.length - 1;
    if (last > 0) this.#socket.cork();
    for (let index = 0; index < last; index++) this.#socket.write(writes[index]!);
    this.#socket.write(writes[last]!, (error) => {
      if (error !== null && error !== undefined) return;
      for (const chunk of outgoing) bulkBuffers.give(chunk);
    });
    if (last > 0) this.#socket.uncork();
  }

  /** Resolves once no call of this connection is in progress. */
  idle(): Promise<void> {
    if (this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Stops reading new calls (calls in progress still get their replies). */
  stopReading(): void {
    this.#reading = false;
    this.#socket.pause();
    this.#socket.removeAllListeners('data');
  }

  /** Ends the connection: a graceful FIN after the replies written so far. */
  end(): void {
    if (this.#outgoing.length > 0) this.#flush();
    this.#socket.end();
  }

  /** Drops the connection at once, with a reset so the client reconnects immediately. */
  reset(): void {
    if (this.#outgoing.length > 0) this.#flush(); // the replies already queued first
    this.#socket.resetAndDestroy();
  }

  /** The client's and this server's ends of the connection, while it is open. */
  get endpoints(): TcpConnectionEndpoints | undefined {
    const { remoteAddress, remotePort, localAddress, localPort } = this.#socket;
    if (remoteAddress === undefined || remotePort === undefined || localAddress === undefined || localPort === undefined) return undefined;
    return { client: remoteAddress, clientPort: remotePort, server: localAddress, serverPort: localPort };
  }
}

/** Both ends of a client's TCP connection (the partner resets stale ones after a takeover). */
export interface TcpConnectionEndpoints {
  readonly client: string;
  readonly clientPort: number;
  readonly server: string;
  readonly serverPort: number;
}

export interface RpcTcpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly dispatcher: Dispatcher;
  readonly log: Logger;
}

export class RpcTcpServer {
  readonly #options: RpcTcpServerOptions;
  readonly #server: net.Server;
  readonly #connections = new Set<Connection>();
  readonly #budget = new InFlightBudget();

  constructor(options: RpcTcpServerOptions) {
    this.#options = options;
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
    this.#server.maxConnections = CONNECTIONS_MAX;
  }

  #accept(socket: net.Socket): void {
    const connection = new Connection(socket, this.#options.dispatcher, this.#options.log, this.#budget);
    this.#connections.add(connection);
    socket.on('close', () => this.#connections.delete(connection));
  }

  /** Starts listening; resolves with the port actually bound (useful with port 0). */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen({ host: this.#options.host, port: this.#options.port, exclusive: true }, () => {
        this.#server.off('error', onError);
        const address = this.#server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : this.#options.port);
      });
    });
  }

  get connectionCount(): number {
    return this.#connections.size;
  }

  /** The open connections' endpoints. */
  connectionEndpoints(): TcpConnectionEndpoints[] {
    return [...this.#connections].flatMap((connection) => connection.endpoints ?? []);
  }

  /**
   * Stops accepting and reading; waits for the calls in progress to be answered; then ends
   * every connection (with a reset when `reset`, so clients reconnect at once elsewhere).
   */
  async close(options: { reset?: boolean } = {}): Promise<void> {
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const connection of this.#connections) connection.stopReading();
    await Promise.all([...this.#connections].map((connection) => connection.idle()));
    for (const connection of this.#connections) {
      if (options.reset) connection.reset();
      else connection.end();
    }
    await closed;
  }
}
