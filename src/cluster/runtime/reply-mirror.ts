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

import { DuplicateRequestCache, type DrcEntrySnapshot } from '../../rpc/duplicate-request-cache.js';
import { filerEpochFromWire } from './wire-messages.js';

/** How long a cached reply may wait before its batch is sent. */
export const MIRROR_FLUSH_MS = 10;
/** A batch is sent at once when it holds this many replies... */
export const MIRROR_BATCH_MAX = 256;
/** ...or this many bytes of replies (a frame holds 4 MiB). */
export const MIRROR_BATCH_BYTES_MAX = 1024 * 1024;
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

/** The serving side: collects cached replies and sends them in packed batches. */
export class MirrorSender {
  readonly #send: (packed: Buffer) => void;
  #batch: MirroredReply[] = [];
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(send: (packed: Buffer) => void) {
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
    this.#send(packReplies(batch));
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
    this.#bytes = 0;
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

  /** Keeps `replies` from the server of epoch `epoch`; a newer epoch starts afresh. */
  accept(epoch: bigint, replies: readonly MirroredReply[]): void {
    if (this.#epoch !== undefined && epoch < this.#epoch) return;
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#cache = new DuplicateRequestCache();
    }
    for (const { key, reply } of replies) this.#cache.keep(key, reply);
  }

  /** The replies to restore when serving at `epoch`: those of the epoch just before it. */
  replaysFor(epoch: bigint): DrcEntrySnapshot[] | undefined {
    return this.#epoch !== undefined && this.#epoch + 1n === epoch ? this.#cache.snapshot() : undefined;
  }

  clear(): void {
    this.#epoch = undefined;
    this.#cache = new DuplicateRequestCache();
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
