// Framing of the interconnect byte stream: each frame is a 4-byte big-endian length followed by
// that many payload bytes. Layer: cluster/interconnect. Knows no crypto and no sockets.
//
// `FrameDecoder` is fed arbitrary slices of the stream and yields whole payloads, one at a time. It never
// holds more than its current limit of one payload: a length that claims more (say 2 GiB) is
// a protocol violation that ends the connection before anything is allocated. The limit is
// small until the peer has authenticated (HANDSHAKE_FRAME_BYTES_MAX) and large after
// (FRAME_BYTES_MAX), so a stranger cannot make us buffer megabytes.

/** The largest payload of an authenticated session: room for the hand-off state of a filer. */
export const FRAME_BYTES_MAX = 4 * 1024 * 1024;
/** The largest payload before the peer has proven the secret: hello and proof are tiny. */
export const HANDSHAKE_FRAME_BYTES_MAX = 4 * 1024;
export const FRAME_HEADER_BYTES = 4;

export class FrameTooLargeError extends Error {
  constructor(readonly claimedBytes: number, readonly frameBytesMax: number) {
    super(`frame of ${claimedBytes} bytes exceeds the limit of ${frameBytesMax}`);
    this.name = 'FrameTooLargeError';
  }
}

export class FrameDecoder {
  #frameBytesMax: number;
  /** Bytes received but not yet consumed, oldest first. */
  #pending: Buffer[] = [];
  #pendingBytes = 0;

  constructor(frameBytesMax: number) {
    this.#frameBytesMax = frameBytesMax;
  }

  /** Raises (or lowers) the limit for frames not yet decoded: used once the peer authenticated. */
  set frameBytesMax(bytes: number) {
    this.#frameBytesMax = bytes;
  }

  /** Bytes held in memory: at most one frame's limit plus the last chunk fed. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  /** Feeds bytes received from the stream; `next()` then yields the frames they complete. */
  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
  }

  /**
   * The next whole payload, or undefined until more bytes arrive. One at a time, so the limit
   * may change between two frames that arrived in one chunk (the last handshake message and the
   * first session frame). Throws FrameTooLargeError as soon as a header claims more than the limit.
   */
  next(): Buffer | undefined {
    if (this.#pendingBytes < FRAME_HEADER_BYTES) return undefined;
    const payloadBytes = this.#peekHeader();
    if (payloadBytes > this.#frameBytesMax) throw new FrameTooLargeError(payloadBytes, this.#frameBytesMax);
    if (this.#pendingBytes < FRAME_HEADER_BYTES + payloadBytes) return undefined;
    this.#take(FRAME_HEADER_BYTES);
    return this.#take(payloadBytes);
  }

  #peekHeader(): number {
    const first = this.#pending[0]!;
    if (first.length >= FRAME_HEADER_BYTES) return first.readUInt32BE(0);
    return this.#copy(FRAME_HEADER_BYTES, false).readUInt32BE(0);
  }

  /** Removes and returns the next `bytes` bytes (a view when they lie in one chunk). */
  #take(bytes: number): Buffer {
    const first = this.#pending[0];
    if (bytes === 0) return Buffer.alloc(0);
    if (first !== undefined && first.length >= bytes) {
      this.#pendingBytes -= bytes;
      if (first.length === bytes) this.#pending.shift();
      else this.#pending[0] = first.subarray(bytes);
      return first.subarray(0, bytes);
    }
    return this.#copy(bytes, true);
  }

  /** Copies the next `bytes` bytes out of several chunks, consuming them when `consume`. */
  #copy(bytes: number, consume: boolean): Buffer {
    const out = Buffer.allocUnsafe(bytes);
    let filled = 0;
    let index = 0;
    while (filled < bytes) {
      const chunk = this.#pending[index]!;
      const n = chunk.copy(out, filled, 0, Math.min(chunk.length, bytes - filled));
      filled += n;
      if (!consume) index++;
      else if (n === chunk.length) this.#pending.shift();
      else this.#pending[0] = chunk.subarray(n);
    }
    if (consume) this.#pendingBytes -= bytes;
    return out;
  }
}

/** The 4-byte header of a frame carrying `payloadBytes` bytes. */
export function frameHeader(payloadBytes: number): Buffer {
  if (!Number.isInteger(payloadBytes) || payloadBytes < 0 || payloadBytes > 0xffff_ffff) {
    throw new RangeError(`frame payload of ${payloadBytes} bytes cannot be framed`);
  }
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(payloadBytes, 0);
  return header;
}
