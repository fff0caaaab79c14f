// Sealing of session frames: after the handshake every payload is
//
//   tag (32 bytes) | seq (8 bytes, big-endian) | body (a session message: messages.ts)
//   tag = HMAC-SHA256(session key, sender role | seq | body)
//
// Layer: cluster/interconnect. Pure: no sockets, no clock.
//
// Each direction numbers its frames 1, 2, 3, ... and the receiver accepts only the next number:
// TCP neither loses nor reorders, so any gap is an attack or a bug. (Accepting any greater seq,
// as first designed, would let a man in the middle delete frames unnoticed, such as a response or
// a `released` message.) The sender's role is in the tag, so a frame cannot be reflected back to
// its sender; the session key is in the tag, so a frame recorded in one session fails in any
// other. The tag is checked before the body is parsed: unauthenticated bytes never reach
// JSON.parse. Bodies are not encrypted (the takeover protocol carries no secrets).

import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Role } from './handshake.js';

export const TAG_BYTES = 32;
export const SEQ_BYTES = 8;
export const SEALED_OVERHEAD_BYTES = TAG_BYTES + SEQ_BYTES;

const SENDER_LABEL: Readonly<Record<Role, Buffer>> = {
  dialer: Buffer.from('dialer->listener', 'utf8'),
  listener: Buffer.from('listener->dialer', 'utf8'),
};

function seqBytes(seq: number): Buffer {
  const bytes = Buffer.allocUnsafe(SEQ_BYTES);
  bytes.writeBigUInt64BE(BigInt(seq), 0);
  return bytes;
}

function tagOf(key: Buffer, sender: Role, seq: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(SENDER_LABEL[sender]).update(seq).update(body).digest();
}

export type Opened =
  | { readonly ok: true; readonly body: Buffer }
  | { readonly ok: false; readonly reason: string };

/** Both directions of one session: seals what we send, opens what the peer sent. */
export class SessionSeal {
  readonly #key: Buffer;
  readonly #role: Role;
  readonly #peerRole: Role;
  #sentSeq = 0;
  #receivedSeq = 0;

  constructor(sessionKey: Buffer, role: Role) {
    this.#key = sessionKey;
    this.#role = role;
    this.#peerRole = role === 'dialer' ? 'listener' : 'dialer';
  }

  /** The payload carrying `body` as our next frame. */
  seal(body: Buffer): Buffer {
    // 2^53 frames would take millennia; reaching it means a bug, and reusing a seq would be worse.
    if (this.#sentSeq >= Number.MAX_SAFE_INTEGER) throw new Error('interconnect: frame sequence exhausted');
    const seq = seqBytes(++this.#sentSeq);
    return Buffer.concat([tagOf(this.#key, this.#role, seq, body), seq, body]);
  }

  /** The body of the peer's next frame, or why the payload is refused. */
  open(payload: Buffer): Opened {
    if (payload.length < SEALED_OVERHEAD_BYTES) return { ok: false, reason: `frame of ${payload.length} bytes is shorter than its tag and seq` };
    const tag = payload.subarray(0, TAG_BYTES);
    const seq = payload.subarray(TAG_BYTES, SEALED_OVERHEAD_BYTES);
    const body = payload.subarray(SEALED_OVERHEAD_BYTES);
    if (!timingSafeEqual(tag, tagOf(this.#key, this.#peerRole, seq, body))) {
      return { ok: false, reason: 'bad tag: frame altered, or recorded in another session' };
    }
    const received = seq.readBigUInt64BE(0);
    const expected = BigInt(this.#receivedSeq + 1);
    if (received !== expected) {
      return { ok: false, reason: `seq ${received} where ${expected} was due: ${received < expected ? 'replayed' : 'skipped'} frame` };
    }
    this.#receivedSeq++;
    return { ok: true, body };
  }
}
