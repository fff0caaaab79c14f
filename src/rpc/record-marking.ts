// Record marking for ONC RPC over TCP (RFC 5531 section 11): each record is a sequence of
// fragments, each preceded by a 4-byte header whose top bit marks the last fragment and whose
// low 31 bits give the fragment's length. Layer: rpc.
//
// `RecordDecoder` is fed arbitrary slices of the byte stream and yields whole records. It
// never holds more than `recordBytesMax` of one record: a header that claims more (say 2 GiB)
// is a protocol violation that ends the connection before anything is allocated.

import { bulkBuffers } from '../platform/buffer-pool.js';

const LAST_FRAGMENT = 0x8000_0000;
const FRAGMENT_LENGTH_MASK = 0x7fff_ffff;
const HEADER_BYTES = 4;

export class RecordTooLargeError extends Error {
  constructor(readonly claimedBytes: number, readonly recordBytesMax: number) {
    super(`record of at least ${claimedBytes} bytes exceeds the limit of ${recordBytesMax}`);
    this.name = 'RecordTooLargeError';
  }
}

export class RecordDecoder {
  readonly #recordBytesMax: number;
  /** Bytes received but not yet consumed, oldest first. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Fragments of the record being assembled. */
  #fragments: Buffer[] = [];
  #recordBytes = 0;

  constructor(recordBytesMax: number) {
    this.#recordBytesMax = recordBytesMax;
  }

  /** Bytes held in memory (pending input plus fragments of an unfinished record). */
  get bufferedBytes(): number {
    return this.#pendingBytes + this.#recordBytes;
  }

  /** Feeds bytes; returns the records completed by them (possibly none). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
    const records: Buffer[] = [];
    for (;;) {
      if (this.#pendingBytes < HEADER_BYTES) return records;
      const header = this.#peekHeader();
      const fragmentBytes = header & FRAGMENT_LENGTH_MASK;
      if (this.#recordBytes + fragmentBytes > this.#recordBytesMax) {
        throw new RecordTooLargeError(this.#recordBytes + fragmentBytes, this.#recordBytesMax);
      }
      if (this.#pendingBytes < HEADER_BYTES + fragmentBytes) return records;
      this.#take(HEADER_BYTES);
      const fragment = this.#take(fragmentBytes);
      this.#fragments.push(fragment);
      this.#recordBytes += fragmentBytes;
      if ((header & LAST_FRAGMENT) !== 0) {
        const fragments = this.#fragments;
        records.push(fragments.length === 1 ? fragments[0]! : Buffer.concat(fragments, this.#recordBytes));
        this.#fragments = [];
        this.#recordBytes = 0;
      }
    }
  }

  #peekHeader(): number {
    const first = this.#pending[0]!;
    if (first.length >= HEADER_BYTES) return first.readUInt32BE(0);
    const bytes = Buffer.alloc(HEADER_BYTES);
    let filled = 0;
    for (const chunk of this.#pending) {
      filled += chunk.copy(bytes, filled, 0, Math.min(chunk.length, HEADER_BYTES - filled));
      if (filled === HEADER_BYTES) break;
    }
    return bytes.readUInt32BE(0);
  }

  /** Removes and returns the next `bytes` bytes (a view when they lie in one chunk). */
  #take(bytes: number): Buffer {
    this.#pendingBytes -= bytes;
    const first = this.#pending[0];
    if (bytes === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= bytes) {
      if (first.length === bytes) this.#pending.shift();
      else this.#pending[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    // A large call (a WRITE) is assembled in a pooled buffer, which the server gives back.
    const out = bulkBuffers.take(bytes);
    let filled = 0;
    while (filled < bytes) {
      const chunk = this.#pending[0]!;
      const n = Math.min(chunk.length, bytes - filled);
      chunk.copy(out, filled, 0, n);
      filled += n;
      if (n === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(n);
    }
    return out;
  }
}

/** The header of a record sent as one fragment of `bytes` bytes. */
export function recordHeader(bytes: number): Buffer {
  if (bytes > FRAGMENT_LENGTH_MASK) throw new RangeError(`record of ${bytes} bytes needs several fragments`);
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE((LAST_FRAGMENT | bytes) >>> 0, 0);
  return header;
}
