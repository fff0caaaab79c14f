// The duplicate-request mirror (layer: cluster/runtime): while a node serves a filer, the replies
// its duplicate-request cache keeps (CREATE, REMOVE, RENAME, ...) are sent to the partner in small
// batches; the partner keeps them, bounded like a DRC, and restores them if it takes the filer
// over after a failure, when no hand-off was written. Then a client retransmitting a request
// whose reply was lost with the failed node gets the original reply instead of a second run (a
// REMOVE answered NOENT). Best effort: a reply cached in the last MIRROR_FLUSH_MS before a crash
// may not have left; the figures are in docs/design/fencing.md.

import { DuplicateRequestCache, type DrcEntrySnapshot } from '../../rpc/duplicate-request-cache.js';
import { filerBatchFromWire } from './wire-messages.js';

/** How long a cached reply may wait before its batch is sent. */
export const MIRROR_FLUSH_MS = 10;
/** A batch is sent at once when it holds this many replies. */
export const MIRROR_BATCH_MAX = 256;
/** The longest key and reply accepted from the partner (a reply is at most one record). */
const KEY_CHARS_MAX = 256;
const REPLY_CHARS_MAX = 2 * 1024 * 1024;

/** The serving side: collects cached replies and sends them in batches. */
export class MirrorSender {
  readonly #send: (entries: readonly DrcEntrySnapshot[]) => void;
  #batch: DrcEntrySnapshot[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(send: (entries: readonly DrcEntrySnapshot[]) => void) {
    this.#send = send;
  }

  add(entry: DrcEntrySnapshot): void {
    this.#batch.push(entry);
    if (this.#batch.length >= MIRROR_BATCH_MAX) this.flush();
    else this.#timer ??= setTimeout(() => this.flush(), MIRROR_FLUSH_MS);
  }

  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#send(batch);
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#batch = [];
  }
}

/** The partner's side: the mirrored replies of one filer, for the epoch its server holds. */
export class MirrorStore {
  #epoch: bigint | undefined;
  #cache = new DuplicateRequestCache();

  /** Keeps `entries` from the server of epoch `epoch`; a newer epoch starts afresh. */
  accept(epoch: bigint, entries: readonly DrcEntrySnapshot[]): void {
    if (this.#epoch !== undefined && epoch < this.#epoch) return;
    if (epoch !== this.#epoch) {
      this.#epoch = epoch;
      this.#cache = new DuplicateRequestCache();
    }
    this.#cache.restore(entries);
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

/** A mirror batch from the wire, or a reason it is not one. */
export function mirrorBatchFromWire(body: unknown): { filer: string; epoch: bigint; entries: DrcEntrySnapshot[] } | string {
  const batch = filerBatchFromWire(body, 'entries', MIRROR_BATCH_MAX);
  if (typeof batch === 'string') return batch;
  const out: DrcEntrySnapshot[] = [];
  for (const entry of batch.items) {
    const { key, reply } = (entry ?? {}) as Record<string, unknown>;
    if (typeof key !== 'string' || typeof reply !== 'string' || key.length > KEY_CHARS_MAX || reply.length > REPLY_CHARS_MAX) return 'an entry is not {key, reply}';
    out.push({ key, reply });
  }
  return { filer: batch.filer, epoch: batch.epoch, entries: out };
}
