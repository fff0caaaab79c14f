// The duplicate-request cache (DRC): replies to non-idempotent calls, so that a retransmitted
// CREATE, REMOVE, RENAME, ... gets its original reply instead of being executed again (a
// second REMOVE would answer NFS3ERR_NOENT). Layer: rpc.
//
// Key: client address (not port: a client that reconnects comes from a new port), xid,
// program, version, procedure and a checksum of the arguments (an xid reused for a different
// call is a different call). A call in progress is marked so that its retransmission is
// dropped rather than run twice. Bounded in entries and bytes; the oldest completed entries
// go first. `snapshot()`/`restore()` carry the completed entries to another node (takeover),
// and the reply mirror carries each completed one as it is made; both name an entry by its
// key's text, `client/xid/program/version/procedure/checksum` (xid in hex, checksum as the
// length and the hash in hex).
//
// The checksum is FNV-1a (32 bits) of the argument bytes, with their length. It only has to
// tell apart two calls of one client with the same xid, program, version and procedure, which
// knfsd does with a 16-bit Internet checksum of the first 256 bytes (nfsd_cache_csum) and the
// length; a SHA-256 of the arguments was as much of a SETATTR as the lookups.
//
// The index is a Map from a small integer drawn from the xid to the entries with it (chained),
// not from the key's text: a lookup then neither builds nor hashes a string. With text keys
// the cache took about 9% of a loopback pair's SETATTR (perf): the string's hash, two lookups
// and an eviction's delete among 8,192 long strings, and the xid's conversion to text.

import { UseOrder, type UseOrderLinks } from '../platform/use-order.js';

export const DRC_ENTRIES_MAX = 8192;
export const DRC_BYTES_MAX = 16 * 1024 * 1024;
/** The bucket is drawn from the low 30 bits of the xid, so that V8 keeps it a small integer. */
const BUCKET_MASK = 0x3fffffff;
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

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

/** Two hex digits for each byte value. */
const HEX_BYTES = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

/**
 * Eight hex digits of an unsigned 32-bit number. By table: V8 turns a number past 2^30 into
 * text on a slow path (about 1% of a MKDIR for the xid and the checksum).
 */
function hex32(value: number): string {
  return HEX_BYTES[value >>> 24]! + HEX_BYTES[(value >>> 16) & 0xff]! + HEX_BYTES[(value >>> 8) & 0xff]! + HEX_BYTES[value & 0xff]!;
}

/** FNV-1a of `bytes`, as an unsigned 32-bit number. */
function fnv1a(bytes: Buffer): number {
  let hash = FNV_OFFSET_BASIS;
  for (let index = 0; index < bytes.length; index++) hash = Math.imul(hash ^ bytes[index]!, FNV_PRIME);
  return hash >>> 0;
}

/** The bucket of a key's text: that of its xid (hex), or 0 when the text is not a key of ours. */
function bucketOfText(text: string): number {
  const xid = text.split('/', 2)[1] ?? '';
  return /^[0-9a-f]{8}$/.test(xid) ? Number.parseInt(xid, 16) & BUCKET_MASK : 0;
}

/** What identifies a call besides its arguments, which a key holds as their checksum only. */
type CallIdentity = Omit<DrcKeyParts, 'args'>;

/**
 * One call's identity. Made from the call (`DrcKey.of`, the text built only when asked for) or
 * from a text another cache made (`DrcKey.fromText`): the same call gives equal keys either way.
 * A key made from a call keeps no reference to its arguments (a view of the bytes the socket
 * read, which a cached key would otherwise hold in memory).
 */
export class DrcKey {
  readonly bucket: number;
  #text: string | undefined;
  readonly #call: CallIdentity | undefined;
  readonly #checksum: string;

  private constructor(bucket: number, text: string | undefined, call: CallIdentity | undefined, checksum: string) {
    this.bucket = bucket;
    this.#text = text;
    this.#call = call;
    this.#checksum = checksum;
  }

  static of(parts: DrcKeyParts): DrcKey {
    const { client, xid, program, version, procedure, args } = parts;
    const checksum = `${args.length}.${hex32(fnv1a(args))}`;
    return new DrcKey(xid & BUCKET_MASK, undefined, { client, xid, program, version, procedure }, checksum);
  }

  static fromText(text: string): DrcKey {
    return new DrcKey(bucketOfText(text), text, undefined, '');
  }

  get text(): string {
    if (this.#text === undefined) {
      const call = this.#call!;
      this.#text = `${call.client}/${hex32(call.xid)}/${call.program}/${call.version}/${call.procedure}/${this.#checksum}`;
    }
    return this.#text;
  }

  equals(other: DrcKey): boolean {
    return this === other || (this.bucket === other.bucket && this.text === other.text);
  }
}

/** An entry of the index: a running call (no reply yet) or a completed one (and then in the order of use). */
interface Entry extends UseOrderLinks<Entry> {
  readonly key: DrcKey;
  reply: Buffer | undefined;
  /** The next entry of the same bucket. */
  next: Entry | undefined;
}

const entryOf = (key: DrcKey): Entry => ({ key, reply: undefined, next: undefined, newer: undefined, older: undefined });

const NEW: DrcLookup = { state: 'new' };
const IN_PROGRESS: DrcLookup = { state: 'in-progress' };

export type DrcLookup =
  | { readonly state: 'new' }
  | { readonly state: 'in-progress' }
  | { readonly state: 'done'; readonly reply: Buffer };

export class DuplicateRequestCache {
  readonly #entriesMax: number;
  readonly #bytesMax: number;
  /** Every entry, running or completed, by bucket. */
  readonly #index = new Map<number, Entry>();
  #size = 0;
  /** The completed entries in order of use; running calls are never here. */
  readonly #done = new UseOrder<Entry>();
  #bytes = 0;
  /** Told of every reply cached by `complete` (the reply mirror), not of restored ones. */
  onCompleted: ((key: string, reply: Buffer) => void) | undefined;

  constructor(limits: { entriesMax?: number; bytesMax?: number } = {}) {
    this.#entriesMax = limits.entriesMax ?? DRC_ENTRIES_MAX;
    this.#bytesMax = limits.bytesMax ?? DRC_BYTES_MAX;
  }

  static key(parts: DrcKeyParts): DrcKey {
    return DrcKey.of(parts);
  }

  get size(): number {
    return this.#size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Looks a call up; a new call is marked in progress. A replayed reply becomes the most recent. */
  begin(key: DrcKey): DrcLookup {
    const entry = this.#find(key);
    if (entry !== undefined) {
      if (entry.reply === undefined) return IN_PROGRESS;
      this.#done.use(entry);
      return { state: 'done', reply: entry.reply };
    }
    this.#add(entryOf(key));
    this.#evict();
    return NEW;
  }

  complete(key: DrcKey, reply: Buffer): void {
    this.#store(key, reply);
    this.onCompleted?.(key.text, reply);
  }

  /** Keeps a completed reply that another node's cache made (not told to onCompleted). */
  keep(key: string, reply: Buffer): void {
    this.#store(DrcKey.fromText(key), reply);
  }

  #store(key: DrcKey, reply: Buffer): void {
    let entry = this.#find(key);
    if (entry === undefined) {
      entry = entryOf(key);
      this.#add(entry);
    }
    if (entry.reply !== undefined) {
      this.#bytes -= entry.reply.length;
      this.#done.remove(entry);
    }
    entry.reply = reply;
    this.#bytes += reply.length;
    this.#done.add(entry);
    this.#evict();
  }

  /** Forgets a call that was not answered (dropped), so its retransmission runs. */
  abandon(key: DrcKey): void {
    const entry = this.#find(key);
    if (entry !== undefined && entry.reply === undefined) this.#remove(entry);
  }

  #find(key: DrcKey): Entry | undefined {
    for (let entry = this.#index.get(key.bucket); entry !== undefined; entry = entry.next) {
      if (entry.key.equals(key)) return entry;
    }
    return undefined;
  }

  #add(entry: Entry): void {
    entry.next = this.#index.get(entry.key.bucket);
    this.#index.set(entry.key.bucket, entry);
    this.#size++;
  }

  #remove(entry: Entry): void {
    const bucket = entry.key.bucket;
    const first = this.#index.get(bucket);
    if (first === entry) {
      if (entry.next === undefined) this.#index.delete(bucket);
      else this.#index.set(bucket, entry.next);
    } else {
      let before = first;
      while (before !== undefined && before.next !== entry) before = before.next;
      if (before !== undefined) before.next = entry.next;
    }
    this.#size--;
    if (entry.reply !== undefined) {
      this.#bytes -= entry.reply.length;
      this.#done.remove(entry);
    }
  }

  /** The oldest completed replies go until both bounds hold; running calls never do. */
  #evict(): void {
    while (this.#size > this.#entriesMax || this.#bytes > this.#bytesMax) {
      const oldest = this.#done.oldest;
      if (oldest === undefined) return;
      this.#remove(oldest);
    }
  }

  /** The completed replies by key text, least recently completed or replayed first. */
  *entries(): IterableIterator<[string, Buffer]> {
    for (const entry of this.#done.fromOldest()) yield [entry.key.text, entry.reply!];
  }

  snapshot(): DrcEntrySnapshot[] {
    return [...this.entries()].map(([key, reply]) => ({ key, reply: reply.toString('base64') }));
  }

  restore(entries: readonly DrcEntrySnapshot[]): void {
    for (const { key, reply } of entries) this.keep(key, Buffer.from(reply, 'base64'));
  }
}
