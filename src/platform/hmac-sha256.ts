// HMAC-SHA256 (RFC 2104, FIPS 180-4) in JavaScript, for the short messages of the hot path: a
// file handle's tag (29 bytes) and a directory's cookie verifier (43). Layer: platform.
//
// Why not node:crypto: each one-shot `hash()` of a short message costs 1.6-1.9 us on the machine
// this was measured on (mostly the call into OpenSSL, not the hashing), so an HMAC built from two
// of them cost 3.4-3.8 us, about 6% of a node's MKDIR, on every new file handle, and `createHmac`
// costs more. The key's two padded blocks are compressed once here, as RFC 2104 section 4
// suggests, so a short message's HMAC is two compressions: 1.75 us there (microbenchmark). The
// results are the same bytes as node:crypto's (hmac-sha256.test.ts checks them against it and
// against RFC 4231).
// Large messages (the interconnect's frames) stay with node:crypto, which is faster per byte.

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
/** The length field of SHA-256's padding: the message length in bits, 64 bits big-endian. */
const LENGTH_FIELD_BYTES = 8;
const INNER_PAD = 0x36;
const OUTER_PAD = 0x5c;

// prettier-ignore
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);
// prettier-ignore
const INITIAL_STATE = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The message schedule, reused by every compression (JavaScript runs one at a time). */
const W = new Int32Array(64);
/** The last block(s) of a message: its tail, the 0x80 byte, zeros and the length. */
const TAIL = new Uint8Array(2 * BLOCK_BYTES);
/** The state of the hash being computed (a key's states are copied into it). */
const STATE = new Int32Array(8);

/** SHA-256's compression of the 64-byte block at `offset` of `bytes` into `state`. */
function compress(state: Int32Array, bytes: Uint8Array, offset: number): void {
  for (let i = 0; i < 16; i++) {
    const at = offset + 4 * i;
    W[i] = (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
  }
  for (let i = 16; i < 64; i++) {
    const w15 = W[i - 15]!;
    const w2 = W[i - 2]!;
    const s0 = ((w15 >>> 7) | (w15 << 25)) ^ ((w15 >>> 18) | (w15 << 14)) ^ (w15 >>> 3);
    const s1 = ((w2 >>> 17) | (w2 << 15)) ^ ((w2 >>> 19) | (w2 << 13)) ^ (w2 >>> 10);
    W[i] = (W[i - 16]! + s0 + W[i - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let i = 0; i < 64; i++) {
    const s1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const t1 = (h + s1 + choice + K[i]! + W[i]!) | 0;
    const s0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + s0 + majority) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/**
 * The SHA-256 digest of `before` bytes already compressed into `state` (whole blocks) followed
 * by `message`, written big-endian into `out`. `state` is used up.
 */
function finish(state: Int32Array, before: number, message: Uint8Array, out: Uint8Array): void {
  const whole = message.length - (message.length % BLOCK_BYTES);
  for (let offset = 0; offset < whole; offset += BLOCK_BYTES) compress(state, message, offset);
  const rest = message.length - whole;
  const tailBytes = rest + 1 + LENGTH_FIELD_BYTES <= BLOCK_BYTES ? BLOCK_BYTES : 2 * BLOCK_BYTES;
  TAIL.fill(0);
  for (let i = 0; i < rest; i++) TAIL[i] = message[whole + i]!;
  TAIL[rest] = 0x80;
  const bits = (before + message.length) * 8;
  writeWord(TAIL, tailBytes - 8, Math.floor(bits / 2 ** 32));
  writeWord(TAIL, tailBytes - 4, bits);
  for (let offset = 0; offset < tailBytes; offset += BLOCK_BYTES) compress(state, TAIL, offset);
  for (let i = 0; i < 8; i++) writeWord(out, 4 * i, state[i]!);
}

/** The low 32 bits of `word`, big-endian, at `offset` of `bytes`. */
function writeWord(bytes: Uint8Array, offset: number, word: number): void {
  bytes[offset] = (word >>> 24) & 0xff;
  bytes[offset + 1] = (word >>> 16) & 0xff;
  bytes[offset + 2] = (word >>> 8) & 0xff;
  bytes[offset + 3] = word & 0xff;
}

/** SHA-256 of `message`. */
export function sha256(message: Uint8Array): Buffer {
  const digest = Buffer.alloc(DIGEST_BYTES);
  STATE.set(INITIAL_STATE);
  finish(STATE, 0, message, digest);
  return digest;
}

/** HMAC-SHA256 with one key, its padded key blocks compressed once. */
export class HmacSha256 {
  readonly #inner = INITIAL_STATE.slice();
  readonly #outer = INITIAL_STATE.slice();
  /** The inner digest, reused: JavaScript runs one `mac` at a time. */
  readonly #innerDigest = new Uint8Array(DIGEST_BYTES);

  constructor(key: Uint8Array) {
    const block = new Uint8Array(BLOCK_BYTES);
    block.set(key.length > BLOCK_BYTES ? sha256(key) : key);
    compress(this.#inner, block.map((byte) => byte ^ INNER_PAD), 0);
    compress(this.#outer, block.map((byte) => byte ^ OUTER_PAD), 0);
  }

  /** HMAC-SHA256 of `message`: 32 bytes. */
  mac(message: Uint8Array): Buffer {
    STATE.set(this.#inner);
    finish(STATE, BLOCK_BYTES, message, this.#innerDigest);
    const digest = Buffer.allocUnsafe(DIGEST_BYTES);
    STATE.set(this.#outer);
    finish(STATE, BLOCK_BYTES, this.#innerDigest, digest);
    return digest;
  }
}
