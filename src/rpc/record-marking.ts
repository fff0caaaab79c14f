// Record marking for ONC RPC over TCP (RFC 5531 section 11): each record is a sequence of
// fragments, each preceded by a 4-byte header whose top bit marks the last fragment and whose
// low 31 bits give the fragment's length. Layer: rpc.
//
// `RecordDecoder` is fed arbitrary slices of the byte stream and yields whole records. It
// never holds more than `recordBytesMax` of one record: a header that claims more (say 2 GiB)
// is a protocol violation that ends the connection before anything is allocated.
//
// A large record (a 1 MiB WRITE arrives in a dozen or more socket reads) is yielded as the
// chunks it arrived in, not copied into one buffer: the WRITE's data goes to the file from them
// (XdrReader.bulkOpaque, a gathered write). Joining them cost a copy of every byte written, and
// about 8% of sequential-write throughput on a loopback pair.

import { byteLength, bytesAfter } from '../platform/chunks.js';

const LAST_FRAGMENT = 0x8000_0000;
const FRAGMENT_LENGTH_MASK = 0x7fff_ffff;
const HEADER_BYTES = 4;
/** Records at least this large that arrived in several chunks are yielded as those chunks. */
export const CHUNKED_RECORD_BYTES_MIN = 64 * 1024;
/**
 * The first chunk of a chunked record holds at least this many bytes (joined from the first
 * few if need be): the RPC header with the largest credential and verifier, and a WRITE's
 * arguments before its data, are read from it without joining the rest.
 */
export const RECORD_HEAD_BYTES = 2048;

/**
 * A record in more chunks than this is joined after all: a client that trickles its bytes
 * (the decoder holds them anyway) must not make a gathered write of thousands of pieces.
 */
export const RECORD_CHUNKS_MAX = 256;

/** A whole record: one buffer, or a large one as the chunks it arrived in (see the header). */
export type RpcRecord = Buffer | readonly Buffer[];

/** The buffer a record's headers are read from: the record, or its first chunk. */
export function recordHead(record: RpcRecord): Buffer {
  return Buffer.isBuffer(record) ? record : record[0]!;
}

/** The bytes of a record from `offset` on: a view of one buffer, or (chunks) joined. */
export function recordBytesFrom(record: RpcRecord, offset: number): Buffer {
  return Buffer.isBuffer(record) ? record.subarray(offset) : Buffer.concat(bytesAfter(record, offset));
}

/** The bytes of a record. */
export function recordLength(record: RpcRecord): number {
  return Buffer.isBuffer(record) ? record.length : byteLength(record);
}

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
  /** The chunks of the record being received, fragment after fragment. */
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
  push(chunk: Buffer): RpcRecord[] {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
    const records: RpcRecord[] = [];
    for (;;) {
      if (this.#pendingBytes < HEADER_BYTES) return records;
      const header = this.#peekHeader();
      const fragmentBytes = header & FRAGMENT_LENGTH_MASK;
      if (this.#recordBytes + fragmentBytes > this.#recordBytesMax) {
        throw new RecordTooLargeError(this.#recordBytes + fragmentBytes, this.#recordBytesMax);
      }
      if (this.#pendingBytes < HEADER_BYTES + fragmentBytes) return records;
      this.#take(HEADER_BYTES);
      this.#take(fragmentBytes, this.#fragments);
      this.#recordBytes += fragmentBytes;
      if ((header & LAST_FRAGMENT) !== 0) {
        records.push(wholeRecord(this.#fragments, this.#recordBytes));
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

  /** Removes the next `bytes` bytes, as views of the chunks they lie in, added to `into` if given. */
  #take(bytes: number, into?: Buffer[]): void {
    this.#pendingBytes -= bytes;
    let taken = 0;
    while (taken < bytes) {
      const chunk = this.#pending[0]!;
      const n = Math.min(chunk.length, bytes - taken);
      into?.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      taken += n;
      if (n === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(n);
    }
  }
}

/** A received record's chunks as an RpcRecord: one buffer unless large and in several chunks. */
function wholeRecord(chunks: Buffer[], bytes: number): RpcRecord {
  if (chunks.length === 1) return chunks[0]!;
  if (bytes < CHUNKED_RECORD_BYTES_MIN || chunks.length > RECORD_CHUNKS_MAX) return Buffer.concat(chunks, bytes);
  let headChunks = 1;
  let headBytes = chunks[0]!.length;
  while (headBytes < RECORD_HEAD_BYTES && headChunks < chunks.length) headBytes += chunks[headChunks++]!.length;
  if (headChunks === 1) return chunks;
  return [Buffer.concat(chunks.slice(0, headChunks), headBytes), ...chunks.slice(headChunks)];
}

/** The header of a record sent as one fragment of `bytes` bytes. */
export function recordHeader(bytes: number): Buffer {
  if (bytes > FRAGMENT_LENGTH_MASK) throw new RangeError(`record of ${bytes} bytes needs several fragments`);
  const header = Buffer.allocUnsafe(HEADER_BYTES);
  header.writeUInt32BE((LAST_FRAGMENT | bytes) >>> 0, 0);
  return header;
}
