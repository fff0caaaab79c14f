// XdrWriter: encodes XDR (RFC 4506), big-endian, into a list of buffers.
// Layer: xdr (knows no RPC). Small values go into a growing scratch buffer; a large payload (a
// READ reply's data) is spliced in by reference with `payload()`, so it is never copied before
// the socket write. `finish()` returns the chunks, ready for a gathered write. Numbers are
// written through a DataView: several times cheaper than Buffer's writeUInt32BE and
// writeBigUInt64BE (measured in bench/codec.ts), and DataView is big-endian by default.

import { padding } from './reader.js';

const CHUNK_BYTES_INITIAL = 512;
const ZEROES = Buffer.alloc(4);
/** Payloads at least this large are referenced rather than copied. */
const PAYLOAD_BY_REFERENCE_BYTES = 1024;

export class XdrWriter {
  #chunks: Buffer[] = [];
  #scratch: Buffer;
  #view: DataView;
  #start = 0;
  #offset = 0;
  #length = 0;

  constructor(initialBytes = CHUNK_BYTES_INITIAL) {
    this.#scratch = Buffer.allocUnsafe(initialBytes);
    this.#view = viewOf(this.#scratch);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /**
   * Room for `bytes` in the scratch buffer, at the returned offset. It may replace the scratch
   * buffer, so callers take the offset first and only then read `this.#scratch` or `this.#view`.
   */
  #reserve(bytes: number): number {
    if (this.#offset + bytes > this.#scratch.length) {
      this.#flushScratch();
      const size = Math.max(bytes, this.#scratch.length * 2);
      this.#scratch = Buffer.allocUnsafe(size);
      this.#view = viewOf(this.#scratch);
      this.#start = 0;
      this.#offset = 0;
    }
    const at = this.#offset;
    this.#offset += bytes;
    this.#length += bytes;
    return at;
  }

  #flushScratch(): void {
    if (this.#offset > this.#start) {
      this.#chunks.push(this.#scratch.subarray(this.#start, this.#offset));
      this.#start = this.#offset;
    }
  }

  /**
   * Room for a fixed-size structure of `bytes` bytes at the returned offset, for the caller to
   * fill through `view` (take the offset first: reserving may replace the view). One
   * reservation instead of a call per field: fattr3's 21 words, in every reply with attributes.
   */
  reserve(bytes: number): number {
    return this.#reserve(bytes);
  }

  /** The view `reserve`'s offsets are into. */
  get view(): DataView {
    return this.#view;
  }

  uint32(value: number): this {
    const at = this.#reserve(4);
    this.#view.setUint32(at, value >>> 0);
    return this;
  }

  int32(value: number): this {
    const at = this.#reserve(4);
    this.#view.setInt32(at, value | 0);
    return this;
  }

  bool(value: boolean): this {
    return this.uint32(value ? 1 : 0);
  }

  uint64(value: bigint): this {
    const at = this.#reserve(8);
    this.#view.setBigUint64(at, value); // wraps modulo 2^64, as BigInt.asUintN would
    return this;
  }

  int64(value: bigint): this {
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, value);
    return this;
  }

  /** Fixed-length opaque: the bytes and their padding, no length. */
  fixedOpaque(bytes: Uint8Array): this {
    if (bytes.length >= PAYLOAD_BY_REFERENCE_BYTES) return this.payload(bytes);
    const at = this.#reserve(bytes.length + padding(bytes.length));
    this.#scratch.set(bytes, at);
    this.#zero(at + bytes.length, padding(bytes.length));
    return this;
  }

  /** Zeroes `count` bytes from `at`: padding, at most 3 bytes, where a call to fill costs more. */
  #zero(at: number, count: number): void {
    const scratch = this.#scratch;
    for (let index = at; index < at + count; index++) scratch[index] = 0;
  }

  /** Variable-length opaque: length, bytes, padding. */
  opaque(bytes: Uint8Array): this {
    return this.uint32(bytes.length).fixedOpaque(bytes);
  }

  /** A string written as its 'latin1' bytes (the inverse of XdrReader.string). */
  string(value: string): this {
    const bytes = value.length; // one latin1 byte per character
    this.uint32(bytes);
    const at = this.#reserve(bytes + padding(bytes));
    this.#scratch.write(value, at, bytes, 'latin1');
    this.#zero(at + bytes, padding(bytes));
    return this;
  }

  /** Splices `bytes` in by reference (then pads): the caller must not change them afterwards. */
  payload(bytes: Uint8Array): this {
    this.#flushScratch();
    this.#chunks.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
    this.#length += bytes.length;
    const pad = padding(bytes.length);
    if (pad > 0) {
      this.#chunks.push(ZEROES.subarray(0, pad));
      this.#length += pad;
    }
    return this;
  }

  /** RFC 4506 4.19: optional-data. */
  optional<T>(value: T | undefined, write: (writer: XdrWriter, value: T) => void): this {
    if (value === undefined) return this.bool(false);
    this.bool(true);
    write(this, value);
    return this;
  }

  /** The encoded bytes as chunks; the writer must not be used afterwards. */
  finish(): Buffer[] {
    this.#flushScratch();
    const chunks = this.#chunks;
    this.#chunks = [];
    return chunks;
  }

  /** The encoded bytes as one buffer (copies when there are several chunks). */
  toBuffer(): Buffer {
    const chunks = this.finish();
    return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  }
}

function viewOf(buffer: Buffer): DataView {
  return new DataView(buffer.buffer, buffer.byteOffset, buffer.length);
}
