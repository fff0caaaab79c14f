// XdrReader: decodes XDR (RFC 4506) from one buffer, big-endian, never reading past its end.
// Layer: xdr (knows no RPC). Every length read from the wire is checked against both the bytes
// that remain and a caller-given maximum before anything is allocated, so malformed input can
// only raise `XdrDecodeError`, which the RPC layer turns into GARBAGE_ARGS.

export class XdrDecodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrDecodeError';
  }
}

const UINT32_MAX = 0xffff_ffff;

export class XdrReader {
  readonly #buffer: Buffer;
  #offset: number;
  readonly #end: number;

  constructor(buffer: Buffer, offset = 0, end = buffer.length) {
    this.#buffer = buffer;
    this.#offset = offset;
    this.#end = end;
  }

  get offset(): number {
    return this.#offset;
  }

  get remaining(): number {
    return this.#end - this.#offset;
  }

  #need(bytes: number, what: string): number {
    const at = this.#offset;
    if (bytes > this.#end - at) {
      throw new XdrDecodeError(`${what}: needs ${bytes} bytes at offset ${at}, ${this.#end - at} remain`);
    }
    this.#offset = at + bytes;
    return at;
  }

  uint32(): number {
    return this.#buffer.readUInt32BE(this.#need(4, 'unsigned int'));
  }

  int32(): number {
    return this.#buffer.readInt32BE(this.#need(4, 'int'));
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
    return this.#buffer.readBigUInt64BE(this.#need(8, 'unsigned hyper'));
  }

  int64(): bigint {
    return this.#buffer.readBigInt64BE(this.#need(8, 'hyper'));
  }

  /** Fixed-length opaque; returns a view of the record buffer (no copy). */
  fixedOpaque(length: number): Buffer {
    const at = this.#need(length, 'fixed opaque');
    this.#need(padding(length), 'fixed opaque padding');
    return this.#buffer.subarray(at, at + length);
  }

  /** Variable-length opaque of at most `maxBytes`; returns a view (no copy). */
  opaque(maxBytes: number): Buffer {
    const length = this.uint32();
    if (length > maxBytes) {
      throw new XdrDecodeError(`opaque: length ${length} exceeds the maximum of ${maxBytes}`);
    }
    return this.fixedOpaque(length);
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
    if (this.#offset !== this.#end) {
      throw new XdrDecodeError(`${what}: ${this.#end - this.#offset} unexpected trailing bytes`);
    }
  }
}

export function padding(length: number): number {
  return (4 - (length & 3)) & 3;
}

export { UINT32_MAX };
