// XdrReader: decodes XDR (RFC 4506) from one buffer, big-endian, never reading past its end.
// Layer: xdr (knows no RPC). Every length read from the wire is checked against both the bytes
// that remain and a caller-given maximum before anything is allocated, so malformed input can
// only raise `XdrDecodeError`, which the RPC layer turns into GARBAGE_ARGS.
//
// The bytes may continue in further buffers (`rest`: a large record as the socket delivered it).
// `bulkOpaque` takes an opaque from them as views, never copied (a WRITE's data); any other read
// that reaches past the first buffer first joins what remains into one (correct, and rare).

export class XdrDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrDecodeError';
  }
}

const UINT32_MAX = 0xffff_ffff;

export class XdrReader {
  #buffer: Buffer;
  #offset: number;
  #end: number;
  /** The buffers whose bytes follow `#end` (from `#restIndex` on), and how many bytes they hold. */
  #rest: readonly Buffer[];
  #restIndex = 0;
  #restBytes: number;
  /** Bytes consumed before `#buffer` (of buffers left behind), so `offset` counts from the start. */
  #consumed = 0;

  constructor(buffer: Buffer, offset = 0, end = buffer.length, rest: readonly Buffer[] = []) {
    this.#buffer = buffer;
    this.#offset = offset;
    this.#end = end;
    this.#rest = rest;
    let restBytes = 0;
    for (const chunk of rest) restBytes += chunk.length;
    this.#restBytes = restBytes;
  }

  get offset(): number {
    return this.#consumed + this.#offset;
  }

  get remaining(): number {
    return this.#end - this.#offset + this.#restBytes;
  }

  #need(bytes: number, what: string): number {
    const at = this.#offset;
    if (bytes > this.#end - at) {
      if (this.#restBytes > 0 && bytes <= this.remaining) {
        // The next buffer, if this one is used up; else what remains, joined.
        if (at === this.#end) this.#next();
        else this.#join();
        return this.#need(bytes, what);
      }
      throw new XdrDecodeError(`${what}: needs ${bytes} bytes at offset ${this.offset}, ${this.remaining} remain`);
    }
    this.#offset = at + bytes;
    return at;
  }

  /** Joins the bytes that remain, in this buffer and the rest, into one buffer. */
  #join(): this {
    const joined = Buffer.concat([this.#buffer.subarray(this.#offset, this.#end), ...this.#rest.slice(this.#restIndex)]);
    this.#consumed += this.#offset;
    this.#buffer = joined;
    this.#offset = 0;
    this.#end = joined.length;
    this.#restIndex = this.#rest.length;
    this.#restBytes = 0;
    return this;
  }

  // Each read takes its offset from #need first: #need may replace #buffer (see #join).

  uint32(): number {
    const at = this.#need(4, 'unsigned int');
    return this.#buffer.readUInt32BE(at);
  }

  int32(): number {
    const at = this.#need(4, 'int');
    return this.#buffer.readInt32BE(at);
  }

  /** RFC 4506 4.4: an enum; the caller checks membership. */
  enumValue(): number {
    return this.int32();
  }

  /** RFC 4506 4.4: bool is an enum of FALSE (0) and TRUE (1); anything else is malformed. */
  bool(): boolean {
    const value = this.uint32();
    if (value > 1) throw new XdrDecodeError(`bool: ${value} is neither 0 nor 1`);
    return value === 1;
  }

  uint64(): bigint {
    const at = this.#need(8, 'unsigned hyper');
    return this.#buffer.readBigUInt64BE(at);
  }

  int64(): bigint {
    const at = this.#need(8, 'hyper');
    return this.#buffer.readBigInt64BE(at);
  }

  /** Fixed-length opaque; returns a view of the record buffer (no copy). */
  fixedOpaque(length: number): Buffer {
    const at = this.#need(length, 'fixed opaque');
    const bytes = this.#buffer.subarray(at, at + length);
    this.#need(padding(length), 'fixed opaque padding');
    return bytes;
  }

  /** Variable-length opaque of at most `maxBytes`; returns a view (no copy). */
  opaque(maxBytes: number): Buffer {
    const length = this.uint32();
    if (length > maxBytes) {
      throw new XdrDecodeError(`opaque: length ${length} exceeds the maximum of ${maxBytes}`);
    }
    return this.fixedOpaque(length);
  }

  /**
   * Variable-length opaque of at most `maxBytes`, as views of the buffers it lies in, in order
   * (one when it lies in one): never copied, however large.
   */
  bulkOpaque(maxBytes: number): Buffer[] {
    const length = this.uint32();
    if (length > maxBytes) {
      throw new XdrDecodeError(`opaque: length ${length} exceeds the maximum of ${maxBytes}`);
    }
    if (length > this.remaining) {
      throw new XdrDecodeError(`bulk opaque: needs ${length} bytes at offset ${this.offset}, ${this.remaining} remain`);
    }
    const pieces: Buffer[] = [];
    let wanted = length;
    for (;;) {
      const here = Math.min(wanted, this.#end - this.#offset);
      if (here > 0 || pieces.length === 0) pieces.push(this.#buffer.subarray(this.#offset, this.#offset + here));
      this.#offset += here;
      wanted -= here;
      if (wanted === 0) break;
      this.#next();
    }
    this.#need(padding(length), 'bulk opaque padding');
    return pieces;
  }

  /** Moves on to the next of the rest (the current buffer is used up). */
  #next(): void {
    const next = this.#rest[this.#restIndex++]!;
    this.#consumed += this.#end;
    this.#buffer = next;
    this.#offset = 0;
    this.#end = next.length;
    this.#restBytes -= next.length;
  }

  /** A string of at most `maxBytes`, each byte one code unit ('latin1': any bytes round-trip). */
  string(maxBytes: number): string {
    return this.opaque(maxBytes).toString('latin1');
  }

  /** A variable-length array count, checked before any element is read. */
  arrayLength(maxElements: number): number {
    const length = this.uint32();
    if (length > maxElements) {
      throw new XdrDecodeError(`array: ${length} elements exceed the maximum of ${maxElements}`);
    }
    return length;
  }

  /** RFC 4506 4.19: optional-data is a bool followed by the value when TRUE. */
  optional<T>(read: (reader: XdrReader) => T): T | undefined {
    return this.bool() ? read(this) : undefined;
  }

  /** Asserts that every byte was consumed: trailing bytes are malformed arguments too. */
  end(what: string): void {
    if (this.remaining !== 0) {
      throw new XdrDecodeError(`${what}: ${this.remaining} unexpected trailing bytes`);
    }
  }
}

export function padding(length: number): number {
  return (4 - (length & 3)) & 3;
}

export { UINT32_MAX };
