// The duplicate-request cache (DRC): replies to non-idempotent calls, so that a retransmitted
// CREATE, REMOVE, RENAME, ... gets its original reply instead of being executed again (a
// second REMOVE would answer NFS3ERR_NOENT). Layer: rpc.
//
// Key: client address (not port: a client that reconnects comes from a new port), xid,
// program, version, procedure and a checksum of the arguments (an xid reused for a different
// call is a different call). A call in progress is marked so that its retransmission is
// dropped rather than run twice. Bounded in entries and bytes; the oldest completed entries
// go first. `snapshot()`/`restore()` carry the completed entries to another node (takeover).

import { createHash } from 'node:crypto';

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

export type DrcLookup =
  | { readonly state: 'new' }
  | { readonly state: 'in-progress' }
  | { readonly state: 'done'; readonly reply: Buffer };

type Entry = { state: 'in-progress' } | { state: 'done'; reply: Buffer };

export class DuplicateRequestCache {
  readonly #entriesMax: number;
  readonly #bytesMax: number;
  /** Insertion order is recency order: the first entries are evicted first. */
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  /** Told of every reply cached by `complete` (the reply mirror), not of restored ones. */
  onCompleted: ((key: string, reply: Buffer) => void) | undefined;

  constructor(limits: { entriesMax?: number; bytesMax?: number } = {}) {
    this.#entriesMax = limits.entriesMax ?? DRC_ENTRIES_MAX;
    this.#bytesMax = limits.bytesMax ?? DRC_BYTES_MAX;
  }

  static key(parts: DrcKeyParts): string {
    const checksum = createHash('sha256').update(parts.args).digest('base64url').slice(0, 22);
    return `${parts.client}/${parts.xid}/${parts.program}/${parts.version}/${parts.procedure}/${checksum}`;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Looks a call up; a new call is marked in progress. */
  begin(key: string): DrcLookup {
    const entry = this.#entries.get(key);
    if (entry === undefined) {
      this.#entries.set(key, { state: 'in-progress' });
      this.#evict();
      return { state: 'new' };
    }
    if (entry.state === 'in-progress') return entry;
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  complete(key: string, reply: Buffer): void {
    this.#store(key, reply);
    this.onCompleted?.(key, reply);
  }

  #store(key: string, reply: Buffer): void {
    const previous = this.#entries.get(key);
    if (previous?.state === 'done') this.#bytes -= previous.reply.length;
    this.#entries.delete(key);
    this.#entries.set(key, { state: 'done', reply });
    this.#bytes += reply.length;
    this.#evict();
  }

  /** Forgets a call that was not answered (dropped), so its retransmission runs. */
  abandon(key: string): void {
    const entry = this.#entries.get(key);
    if (entry?.state === 'in-progress') this.#entries.delete(key);
  }

  #evict(): void {
    for (const [key, entry] of this.#entries) {
      if (this.#entries.size <= this.#entriesMax && this.#bytes <= this.#bytesMax) return;
      if (entry.state === 'in-progress') continue;
      this.#entries.delete(key);
      this.#bytes -= entry.reply.length;
    }
  }

  snapshot(): DrcEntrySnapshot[] {
    const out: DrcEntrySnapshot[] = [];
    for (const [key, entry] of this.#entries) {
      if (entry.state === 'done') out.push({ key, reply: entry.reply.toString('base64') });
    }
    return out;
  }

  restore(entries: readonly DrcEntrySnapshot[]): void {
    for (const { key, reply } of entries) this.#store(key, Buffer.from(reply, 'base64'));
  }
}
