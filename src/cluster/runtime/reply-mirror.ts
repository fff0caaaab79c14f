// The duplicate-request mirror (layer: cluster/runtime): while a node serves a filer, the replies
// its duplicate-request cache keeps (CREATE, REMOVE, RENAME, ...) are sent to the partner in small
// batches; the partner keeps them, bounded like a DRC, and restores them if it takes the filer
// over after a failure, when no hand-off was written. Then a client retransmitting a request
// whose reply was lost with the failed node gets the original reply instead of a second run (a
// REMOVE answered NOENT). Best effort: a reply cached in the last MIRROR_FLUSH_MS before a crash
// may not have left; the figures are in docs/design/fencing.md.
//
// A batch travels as the attachment of one interconnect request (messages.ts), packed as
//
//   per reply: key length (2 bytes, big-endian) | key (latin1) | reply length (4) | reply
//
// so the serving node copies each reply once: encoding a batch of 256 replies as base64 in JSON
// took 156 us of its event loop, the partner 87 us to parse it; packed, the batch's message is
// encoded in about 25 us.
//
// A planned takeover uses the mirror too. The partner answers each batch with the id of the
// store that keeps it (a new store, after a restart or for a new epoch, has a new id). When every
// batch of the serving epoch reached one store, the releasing node says so in the hand-off
// instead of writing its whole cache into it, and the partner takes that store over as its
// cache. A full cache written as JSON and read back was most of a planned takeover's pause after
// a metadata workload (release 36-58 ms and serve 49-56 ms, against 12-14 and 8-15 without it).
// Should any batch be lost or the store change, the hand-off carries the whole cache, as before.

import { randomUUID } from 'node:crypto';
import { DuplicateRequestCache } from '../../rpc/duplicate-request-cache.js';
import { filerEpochFromWire } from './wire-messages.js';

/** How long a cached reply may wait before its batch is sent. */
export const MIRROR_FLUSH_MS = 10;
/** A batch is sent at once when it holds this many replies... */
export const MIRROR_BATCH_MAX = 256;
/** ...or this many bytes of replies (a frame holds 4 MiB). */
export const MIRROR_BATCH_BYTES_MAX = 1024 * 1024;
/**
 * How long a releasing node waits for the partner to answer its last batches (a few ms on a
 * working interconnect); past it, the hand-off carries the whole cache.
 */
export const MIRROR_SETTLE_MS = 100;
/** The longest store id accepted in the partner's answer (ours are UUIDs). */
const STORE_ID_BYTES_MAX = 64;
/** The longest key and reply accepted from the partner (a reply is at most one record). */
const KEY_BYTES_MAX = 256;
const REPLY_BYTES_MAX = 1024 * 1024 + 64 * 1024;
const KEY_LENGTH_BYTES = 2;
const REPLY_LENGTH_BYTES = 4;

/** A reply the duplicate-request cache kept, under its key. */
export interface MirroredReply {
  readonly key: string;
  readonly reply: Buffer;
}

/**
 * Sends one packed batch; resolves with the id of the partner's store that kept it, or
 * undefined when it was not delivered (or the partner does not say).
 */
export type SendBatch = (packed: Buffer) => Promise<string | undefined>;

/** The serving side: collects cached replies and sends them in packed batches. */
export class MirrorSender {
  readonly #send: SendBatch;
  #batch: MirroredReply[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Batches sent and not yet answered. */
  readonly #inFlight = new Set<Promise<void>>();
  /** The store every batch so far reached; undefined before the first, or once one missed it. */
  #store: string | undefined;
  #broken = false;
  /** Resolves once `resend` has sent its last batch. */
  #resending: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(send: SendBatch) {
    this.#send = send;
  }

  add(key: string, reply: Buffer): void {
    this.#batch.push({ key, reply });
    this.#bytes += reply.length;
    if (this.#batch.length >= MIRROR_BATCH_MAX || this.#bytes >= MIRROR_BATCH_BYTES_MAX) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), MIRROR_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#bytes = 0;
    this.#sendBatch(batch);
  }

  /**
   * Sends `replies` too (those a server starts with: handed off or taken over), a batch a turn
   * of the event loop, so that a takeover's first calls do not wait behind them. Until the last
   * is sent, `settle` names no store.
   */
  resend(replies: readonly MirroredReply[]): void {
    if (replies.length === 0) return;
    let at = 0;
    this.#resending = new Promise<void>((resolve) => {
      const next = (): void => {
        if (this.#stopped) return resolve();
        this.#sendBatch(replies.slice(at, at + MIRROR_BATCH_MAX));
        at += MIRROR_BATCH_MAX;
        if (at < replies.length) setImmediate(next);
        else resolve();
      };
      setImmediate(next);
    });
  }

  #sendBatch(batch: readonly MirroredReply[]): void {
    const sent = this.#send(packReplies(batch)).then(
      (store) => this.#delivered(store),
      () => this.#delivered(undefined),
    );
    this.#inFlight.add(sent);
    void sent.finally(() => this.#inFlight.delete(sent));
  }

  #delivered(store: string | undefined): void {
    if (store === undefined || (this.#store !== undefined && store !== this.#store)) this.#broken = true;
    this.#store ??= store;
  }

  /**
   * Sends what waits and waits, up to `deadlineMs`, for every batch to be answered: the id of
   * the one store that kept every reply sent so far, or undefined if there is none (nothing
   * sent, a batch lost or unanswered, the store changed).
   */
  async settle(deadlineMs: number): Promise<string | undefined> {
    this.flush();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), deadlineMs)));
    const answered = this.#resending.then(() => Promise.all(this.#inFlight)).then(() => false);
    const late = await Promise.race([answered, expired]);
    clearTimeout(timer);
    return late || this.#broken ? undefined : this.#store;
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
    this.#bytes = 0;
    this.#stopped = true;
  }
}

/** The replies of a batch, packed as the header says. */
export function packReplies(replies: readonly MirroredReply[]): Buffer {
  let size = 0;
  for (const { key, reply } of replies) size += KEY_LENGTH_BYTES + key.length + REPLY_LENGTH_BYTES + reply.length;
  const packed = Buffer.allocUnsafe(size);
  let at = 0;
  for (const { key, reply } of replies) {
    at = packed.writeUInt16BE(key.length, at);
    at += packed.write(key, at, 'latin1');
    at = packed.writeUInt32BE(reply.length, at);
    at += reply.copy(packed, at);
  }
  return packed;
}

/** The replies packed in `packed` (each copied out of it), or a reason they are not well formed. */
export function unpackReplies(packed: Buffer, countMax: number): MirroredReply[] | string {
  const replies: MirroredReply[] = [];
  let at = 0;
  while (at < packed.length) {
    if (replies.length === countMax) return `more than ${countMax} replies`;
    if (at + KEY_LENGTH_BYTES > packed.length) return 'a key length is cut short';
    const keyBytes = packed.readUInt16BE(at);
    at += KEY_LENGTH_BYTES;
    if (keyBytes === 0 || keyBytes > KEY_BYTES_MAX) return `a key of ${keyBytes} bytes`;
    if (at + keyBytes + REPLY_LENGTH_BYTES > packed.length) return 'a key or reply length is cut short';
    const key = packed.toString('latin1', at, at + keyBytes);
    at += keyBytes;
    const replyBytes = packed.readUInt32BE(at);
    at += REPLY_LENGTH_BYTES;
    if (replyBytes > REPLY_BYTES_MAX || at + replyBytes > packed.length) return `a reply of ${replyBytes} bytes where ${Math.min(REPLY_BYTES_MAX, packed.length - at)} may follow`;
    // A copy: a slice would keep the whole batch alive while any of its replies is cached.
    replies.push({ key, reply: Buffer.from(packed.subarray(at, at + replyBytes)) });
    at += replyBytes;
  }
  return replies;
}

/** The partner's side: the mirrored replies of one filer, for the epoch its server holds. */
export class MirrorStore {
  #epoch: bigint | undefined;
  #cache = new DuplicateRequestCache();
  /** Names this store's cache: a new cache (a new epoch, a cleared store) gets a new id. */
  #id = randomUUID();

  /**
   * Keeps `replies` from the server of epoch `epoch`; a newer epoch starts afresh. Returns the
   * id of the store that kept them (undefined for a batch of an older epoch, which is dropped).
   */
  accept(epoch: bigint, replies: readonly MirroredReply[]): string | undefined {
    if (this.#epoch !== undefined && epoch < this.#epoch) return undefined;
    if (epoch !== this.#epoch) {
      this.#fresh();
      this.#epoch = epoch;
    }
    for (const { key, reply } of replies) this.#cache.keep(key, reply);
    return this.#id;
  }

  /**
   * The cache to serve at `epoch` with, itself, not a copy: the store `id` when a hand-off names
   * one (it kept every reply of the releasing server), else, after a failure, that of the epoch
   * just before `epoch`. Undefined when there is no such cache. The store keeps it until
   * cleared (once serving began), so a serve that fails can try again with it.
   */
  cacheFor(epoch: bigint, id?: string): DuplicateRequestCache | undefined {
    if (this.#epoch === undefined) return undefined;
    if (id === undefined ? this.#epoch + 1n !== epoch : id !== this.#id) return undefined;
    return this.#cache;
  }

  clear(): void {
    this.#fresh();
    this.#epoch = undefined;
  }

  #fresh(): void {
    this.#cache = new DuplicateRequestCache();
    this.#id = randomUUID();
  }
}

/** A mirror batch from the wire (its JSON body and packed attachment), or a reason it is not one. */
export function mirrorBatchFromWire(body: unknown, attachment: Buffer | undefined): { filer: string; epoch: bigint; replies: MirroredReply[] } | string {
  const batch = filerEpochFromWire(body);
  if (typeof batch === 'string') return batch;
  if (attachment === undefined) return 'no packed replies';
  const replies = unpackReplies(attachment, MIRROR_BATCH_MAX);
  if (typeof replies === 'string') return replies;
  return { filer: batch.filer, epoch: batch.epoch, replies };
}

/** The store id in the partner's answer to a batch (`{ store }`), or undefined (none, or an older partner's null). */
export function mirrorStoreFromWire(answer: unknown): string | undefined {
  if (answer === null || typeof answer !== 'object' || Array.isArray(answer)) return undefined;
  const store = (answer as { store?: unknown }).store;
  return typeof store === 'string' && store.length > 0 && store.length <= STORE_ID_BYTES_MAX ? store : undefined;
}
