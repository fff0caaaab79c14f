// File handles of a volume (RFC 1813 2.3.3: opaque, at most NFS3_FHSIZE = 64 bytes). A handle
// is built only from what the volume stores, so it survives restart, takeover and giveback:
//
//   format (1) | volume id (16) | fileid (8, big-endian) | generation (4) | tag (16)  = 45 bytes
//
// The tag is HMAC-SHA256 over the preceding 29 bytes with the volume's handle key, truncated to
// 16 bytes, so a client cannot forge a handle for a file it was never given. A handle that is
// not ours is 'bad-handle'; a genuine handle whose file is gone (or whose fileid now carries a
// different generation) is 'stale'. Verified handles are cached, and so are encoded ones, so the
// hot path costs one map lookup instead of an HMAC; the volume calls `forget` when it deletes an
// inode. The verified handles are found by a number drawn from their tag (an HMAC: its bits are as
// good as random), then compared whole: a key of the handle's bytes as text cost every call
// about 0.08 us more to make and hash (microbenchmark: 280 -> 205 ns a cached resolve).
//
// The tag, and a directory's cookie verifier, are computed by platform/hmac-sha256.ts, with the
// key's padded blocks compressed once: `createHmac` made an object per call (a new handle's tag
// cost about 5 us of a node's MKDIR, 8% of it), and two one-shot `hash()` calls cost 3.4-3.8 us
// on the machine where this was measured, against 1.75. The bytes are the same, so handles and
// cookie verifiers clients already hold stay valid.

import { timingSafeEqual } from 'node:crypto';
import { HmacSha256 } from '../platform/hmac-sha256.js';
import { StorageError } from './types.js';
import { BoundedMap } from '../platform/bounded-map.js';

export const HANDLE_FORMAT = 1;
export const VOLUME_ID_BYTES = 16;
export const HANDLE_KEY_BYTES = 32;
const TAG_BYTES = 16;
const FILEID_OFFSET = 1 + VOLUME_ID_BYTES;
const GENERATION_OFFSET = FILEID_OFFSET + 8;
const TAG_OFFSET = GENERATION_OFFSET + 4;
export const HANDLE_BYTES = TAG_OFFSET + TAG_BYTES;
/** Verified handles remembered; each entry costs about 150 bytes. */
export const HANDLE_CACHE_ENTRIES_MAX = 65_536;
const COOKIE_VERIFIER_BYTES = 8;
const COOKIE_VERIFIER_LABEL = Buffer.from('cookie verifier');
/** What a cookie verifier's HMAC covers: the label, the volume id, a fileid and its generation. */
const COOKIE_VERIFIER_MESSAGE_BYTES = COOKIE_VERIFIER_LABEL.length + VOLUME_ID_BYTES + 8 + 4;

interface EncodedHandle {
  readonly generation: number;
  readonly handle: Buffer;
}

interface VerifiedHandle {
  readonly handle: Buffer;
  readonly fileid: bigint;
}

/**
 * The verified-handle cache's key of a handle of our length: 48 bits of its tag, so that two
 * of the cache's 65,536 handles share a key about once in 10^5 fills (30 bits, a small integer,
 * made that about twice a fill; the second then replaced the first, which was verified again).
 */
function cacheKeyOf(handle: Buffer): number {
  return handle.readUInt16BE(TAG_OFFSET) * 2 ** 32 + handle.readUInt32BE(TAG_OFFSET + 2);
}

function sameBytes(a: Buffer, b: Buffer): boolean {
  if (a.length !== b.length) return false;
  for (let index = a.length - 1; index >= 0; index--) if (a[index] !== b[index]) return false;
  return true;
}

export class FileHandles {
  readonly #volumeId: Buffer;
  readonly #hmac: HmacSha256;
  readonly #generationOf: (fileid: bigint) => number | undefined;
  /** cacheKeyOf(handle) -> the handle and its fileid (a BoundedMap: a plain Map's eviction is a V8 cliff). */
  readonly #verified = new BoundedMap<number, VerifiedHandle>(HANDLE_CACHE_ENTRIES_MAX);
  /** fileid -> its handle as last encoded: an HMAC costs more than the lookup. */
  readonly #encoded = new BoundedMap<bigint, EncodedHandle>(HANDLE_CACHE_ENTRIES_MAX);

  /** `generationOf` answers the stored generation of a fileid, or undefined if it is gone. */
  constructor(volumeId: Buffer, key: Buffer, generationOf: (fileid: bigint) => number | undefined) {
    if (volumeId.length !== VOLUME_ID_BYTES) throw new Error('file handles: a volume id has 16 bytes');
    if (key.length !== HANDLE_KEY_BYTES) throw new Error('file handles: a handle key has 32 bytes');
    this.#volumeId = volumeId;
    this.#hmac = new HmacSha256(key);
    this.#generationOf = generationOf;
  }

  /**
   * The handle of `fileid` at `generation`. It is the cached buffer, not a copy (a copy was a
   * tenth of a READDIRPLUS entry's handle): callers must not modify it.
   */
  encode(fileid: bigint, generation: number): Buffer {
    const known = this.#known(fileid, generation);
    if (known !== undefined) return known;
    const handle = this.#encodeNew(fileid, generation);
    // Genuine by construction: its first use need not verify it.
    this.#verified.set(cacheKeyOf(handle), { handle, fileid });
    this.#encoded.set(fileid, { generation, handle });
    return handle;
  }

  #encodeNew(fileid: bigint, generation: number): Buffer {
    const handle = Buffer.alloc(HANDLE_BYTES);
    handle.writeUInt8(HANDLE_FORMAT, 0);
    this.#volumeId.copy(handle, 1);
    handle.writeBigUInt64BE(fileid, FILEID_OFFSET);
    handle.writeUInt32BE(generation, GENERATION_OFFSET);
    this.#tag(handle).copy(handle, TAG_OFFSET);
    return handle;
  }

  /** The fileid a handle names: 'bad-handle' if it is not a handle of ours, 'stale' if gone. */
  resolve(handle: Buffer): bigint {
    const cached = handle.length === HANDLE_BYTES ? this.#verified.get(cacheKeyOf(handle)) : undefined;
    if (cached !== undefined && sameBytes(cached.handle, handle)) return cached.fileid;
    this.#verify(handle);
    const fileid = handle.readBigUInt64BE(FILEID_OFFSET);
    const generation = handle.readUInt32BE(GENERATION_OFFSET);
    if (this.#generationOf(fileid) !== generation) {
      throw new StorageError('stale', `file handle: file ${fileid} no longer exists`);
    }
    // A copy: the handle may be a view of a whole call's bytes.
    this.#verified.set(cacheKeyOf(handle), { handle: Buffer.from(handle), fileid });
    return fileid;
  }

  /** Drops the cached handle of a deleted inode, so it resolves as 'stale' from now on. */
  forget(fileid: bigint, generation: number): void {
    const handle = this.#known(fileid, generation) ?? this.#encodeNew(fileid, generation);
    const key = cacheKeyOf(handle);
    const cached = this.#verified.get(key);
    if (cached !== undefined && sameBytes(cached.handle, handle)) this.#verified.delete(key);
    this.#encoded.delete(fileid);
  }

  /** The cached handle of `fileid` if it was encoded for this generation. */
  #known(fileid: bigint, generation: number): Buffer | undefined {
    const known = this.#encoded.get(fileid);
    return known !== undefined && known.generation === generation ? known.handle : undefined;
  }

  /** Forgets every verified handle (their files are checked again on next use). */
  clear(): void {
    this.#verified.clear();
    this.#encoded.clear();
  }

  /** RFC 1813 3.3.16: names a directory's cookie space; cookies never change, so neither does it. */
  cookieVerifier(fileid: bigint, generation: number): Buffer {
    const message = Buffer.allocUnsafe(COOKIE_VERIFIER_MESSAGE_BYTES);
    let at = COOKIE_VERIFIER_LABEL.copy(message, 0);
    at += this.#volumeId.copy(message, at);
    at = message.writeBigUInt64BE(fileid, at);
    message.writeUInt32BE(generation, at);
    return this.#hmac.mac(message).subarray(0, COOKIE_VERIFIER_BYTES);
  }

  #verify(handle: Buffer): void {
    if (handle.length !== HANDLE_BYTES) {
      throw new StorageError('bad-handle', `file handle: ${handle.length} bytes, expected ${HANDLE_BYTES}`);
    }
    if (handle.readUInt8(0) !== HANDLE_FORMAT) {
      throw new StorageError('bad-handle', `file handle: unknown format ${handle.readUInt8(0)}`);
    }
    if (!handle.subarray(1, FILEID_OFFSET).equals(this.#volumeId)) {
      throw new StorageError('bad-handle', 'file handle: from another volume');
    }
    const tag = handle.subarray(TAG_OFFSET);
    if (!timingSafeEqual(tag, this.#tag(handle))) {
      throw new StorageError('bad-handle', 'file handle: authentication tag does not verify');
    }
  }

  /** HMAC-SHA256 of the handle's bytes before the tag, truncated (see the header). */
  #tag(handle: Buffer): Buffer {
    return this.#hmac.mac(handle.subarray(0, TAG_OFFSET)).subarray(0, TAG_BYTES);
  }
}
