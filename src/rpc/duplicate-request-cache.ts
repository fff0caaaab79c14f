// The duplicate-request cache (DRC): replies to non-idempotent calls, so that a retransmitted
// CREATE, REMOVE, RENAME, ... gets its original reply instead of being executed again (a
// second REMOVE would answer NFS3ERR_NOENT). Layer: rpc.
//
// Key: client address (not port: a client that reconnects comes from a new port), xid,
// program, version, procedure and a checksum of the arguments (an xid reused for a different
// call is a different call). A call in progress is marked so that its retransmission is
// dropped rather than run twice. Bounded in entries and bytes; the oldest completed entries
// go first. `snapshot()`/`restore()` carry the completed entries to another node (takeover).

import { hash } from 'node:crypto';
import { BoundedMap } from '../platform/bounded-map.js';

export const DRC_ENTRIES_MAX = 8192;
export const DRC_BYTES_MAX = 16 * 1024 * 1024;

export interface DrcKeyParts {
  readonly client: string;
  readonly xid: number;
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  /** The call's argument bytes. */
  readonly args: Buffer;
}

/** A completed entry in a form that survives JSON. */
export interface DrcEntrySnapshot {
  readonly key: string;
  /** The whole reply message (no record marker), base64. */
  readonly reply: string;
}

const NEW: DrcLookup = { state: 'new' };
const IN_PROGRESS: DrcLookup = { state: 'in-progress' };

export type DrcLookup =
  | { readonly state: 'new' }
  | { readonly state: 'in-progress' }
  | { readonly state: 'done'; readonly reply: Buffer };

export class DuplicateRequestCache {
  readonly #entriesMax: number;
  readonly #bytesMax: number;
  /** Calls running now: never evicted, so a retransmission meanwhile is always dropped. */
  readonly #running = new Set<string>();
  /** Completed replies, least recently completed or replayed first (platform/bounded-map.ts). */
  readonly #done: BoundedMap<string, Buffer>;
  #bytes = 0;
  /** Told of every reply cached by `complete` (the reply mirror), not of restored ones. */
  onCompleted: ((key: string, reply: Buffer) => void) | undefined;

  constructor(limits: { entriesMax?: number; bytesMax?: number } = {}) {
    this.#entriesMax = limits.entriesMax ?? DRC_ENTRIES_MAX;
    this.#bytesMax = limits.bytesMax ?? DRC_BYTES_MAX;
    this.#done = new BoundedMap(this.#entriesMax, (_key, reply) => (this.#bytes -= reply.length));
  }

  static key(parts: DrcKeyParts): string {
    // The one-shot hash: a third of createHash's cost, on every call that is cached.
    const checksum = hash('sha256', parts.args, 'base64url').slice(0, 22);
    return `${parts.client}/${parts.xid}/${parts.program}/${parts.version}/${parts.procedure}/${checksum}`;
  }

  get size(): number {
    return this.#running.size + this.#done.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Looks a call up; a new call is marked in progress. A replayed reply becomes the most recent. */
  begin(key: string): DrcLookup {
    if (this.#running.has(key)) return IN_PROGRESS;
    const reply = this.#done.get(key);
    if (reply !== undefined) return { state: 'done', reply };
    this.#running.add(key);
    this.#evict();
    return NEW;
  }

  complete(key: string, reply: Buffer): void {
    this.#store(key, reply);
    this.onCompleted?.(key, reply);
  }

  /** Keeps a completed reply that another node's cache made (not told to onCompleted). */
  keep(key: string, reply: Buffer): void {
    this.#store(key, reply);
  }

  #store(key: string, reply: Buffer): void {
    this.#running.delete(key);
    const previous = this.#done.get(key);
    if (previous !== undefined) this.#bytes -= previous.length;
    this.#done.set(key, reply);
    this.#bytes += reply.length;
    this.#evict();
  }

  /** Forgets a call that was not answered (dropped), so its retransmission runs. */
  abandon(key: string): void {
    this.#running.delete(key);
  }

  /** The oldest completed replies go until both bounds hold; running calls never do. */
  #evict(): void {
    while (this.size > this.#entriesMax || this.#bytes > this.#bytesMax) {
      if (!this.#done.evictOldest()) return;
    }
  }

  /** The completed replies, least recently completed or replayed first. */
  entries(): IterableIterator<[string, Buffer]> {
    return this.#done.entries();
  }

  snapshot(): DrcEntrySnapshot[] {
    return [...this.entries()].map(([key, reply]) => ({ key, reply: reply.toString('base64') }));
  }

  restore(entries: readonly DrcEntrySnapshot[]): void {
    for (const { key, reply } of entries) this.keep(key, Buffer.from(reply, 'base64'));
  }
}
