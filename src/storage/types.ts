// The storage layer's contract: what a volume stores and the operations the protocol layers may
// ask of it. Storage knows POSIX file-system semantics (owners, modes, links, sparse files) but
// no RPC or NFS: the NFS layer maps these types and `StorageErrorCode`s onto RFC 1813.

import { byteLength } from '../platform/chunks.js';

/** File types, in the order of RFC 1813 ftype3 (NF3REG = 1 ... NF3FIFO = 7). */
export type FileType = 'reg' | 'dir' | 'blk' | 'chr' | 'lnk' | 'sock' | 'fifo';

/** Seconds since the epoch (uint32 on the wire) and nanoseconds (0 .. 999,999,999). */
export interface Timestamp {
  readonly seconds: number;
  readonly nanoseconds: number;
}

export interface DeviceNumber {
  readonly major: number;
  readonly minor: number;
}

export interface Attributes {
  readonly type: FileType;
  /** Permission bits including setuid (0o4000), setgid (0o2000) and sticky (0o1000). */
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  /** Bytes of backing storage used. */
  readonly used: bigint;
  readonly rdev: DeviceNumber;
  readonly fsid: bigint;
  readonly fileid: bigint;
  readonly atime: Timestamp;
  readonly mtime: Timestamp;
  readonly ctime: Timestamp;
}

/** Who asks: already mapped by the export rules (squashing happens above storage). */
export interface Caller {
  readonly uid: number;
  readonly gid: number;
  /** Supplementary groups. */
  readonly gids: readonly number[];
}

/** Attributes to set; an absent key is left as it is. 'now' means the server's current time. */
export interface SetAttributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: bigint;
  readonly atime?: Timestamp | 'now';
  readonly mtime?: Timestamp | 'now';
}

export type Stability = 'unstable' | 'data-sync' | 'file-sync';

/** Bytes to write: one buffer, or several in order (a large WRITE's data as the socket delivered it, never joined). */
export type WriteData = Buffer | readonly Buffer[];

/** The bytes of `data`. */
export function writeDataLength(data: WriteData): number {
  return Buffer.isBuffer(data) ? data.length : byteLength(data);
}

export type CreateHow =
  | { readonly mode: 'unchecked' | 'guarded'; readonly attributes: SetAttributes }
  /** RFC 1813 3.3.8: the verifier makes a retransmitted exclusive create succeed. */
  | { readonly mode: 'exclusive'; readonly verifier: Buffer };

export interface DirectoryEntry {
  /** Stable across restarts and takeover; 0 is never a cookie (it means "from the start"). */
  readonly cookie: bigint;
  /** The name as bytes decoded with 'latin1' (see `names` below). */
  readonly name: string;
  readonly fileid: bigint;
  /** Present when asked for with `plus`. */
  readonly attributes?: Attributes | undefined;
  /** Present when asked for with `plus`; shared, like `fileHandle`'s. */
  readonly handle?: Buffer | undefined;
}

export interface DirectoryPage {
  readonly entries: readonly DirectoryEntry[];
  /** True when the last entry returned is the last entry of the directory. */
  readonly eof: boolean;
}

export interface FileSystemStats {
  readonly totalBytes: bigint;
  readonly freeBytes: bigint;
  readonly availableBytes: bigint;
  readonly totalFiles: bigint;
  readonly freeFiles: bigint;
  readonly availableFiles: bigint;
}

export interface VolumeIdentity {
  /** 16 random bytes fixed at creation; the first part of every file handle. */
  readonly id: Buffer;
  readonly name: string;
  /** Fixed at creation. */
  readonly fsid: bigint;
}

/**
 * A volume: one self-contained file system in a directory.
 *
 * Names are byte strings: the NFS layer decodes wire names with 'latin1', which maps each byte
 * to one code unit and back, so any byte sequence round-trips and `name.length` is its length
 * in bytes. Storage validates names (no '/', no NUL, 1..255 bytes) and refuses '.' and '..'
 * where POSIX does.
 *
 * Every method that takes a `Caller` enforces POSIX permissions as a Linux VFS would
 * (uid 0 bypasses read/write checks; execute needs some x bit on non-directories).
 * Failures throw `StorageError` with a code from `StorageErrorCode`.
 */
export interface Volume {
  readonly identity: VolumeIdentity;
  readonly rootFileId: bigint;
  /** 8 bytes; changes only when acknowledged unstable data may have been lost. */
  readonly writeVerifier: Buffer;

  /** The handle of a file; at most 64 bytes (NFS3_FHSIZE). Shared with later calls: do not modify it. */
  fileHandle(fileid: bigint): Buffer;
  /** The fileid a handle names; throws 'bad-handle' (forged, altered, malformed) or 'stale' (deleted). */
  resolveHandle(handle: Buffer): bigint;

  getattr(fileid: bigint): Attributes;
  setattr(caller: Caller, fileid: bigint, changes: SetAttributes): Attributes;
  lookup(caller: Caller, directory: bigint, name: string): bigint;
  readlink(caller: Caller, fileid: bigint): string;
  read(caller: Caller, fileid: bigint, offset: bigint, count: number): Promise<{ data: Buffer; eof: boolean }>;
  /** Returns the stability actually achieved (at least the one asked for). */
  write(caller: Caller, fileid: bigint, offset: bigint, data: WriteData, stability: Stability): Promise<Stability>;
  /** Makes every earlier write to the file stable (RFC 1813 3.3.21; the range may be ignored). */
  commit(fileid: bigint): Promise<void>;
  create(caller: Caller, directory: bigint, name: string, how: CreateHow): bigint;
  mkdir(caller: Caller, directory: bigint, name: string, attributes: SetAttributes): bigint;
  symlink(caller: Caller, directory: bigint, name: string, target: string, attributes: SetAttributes): bigint;
  mknod(
    caller: Caller,
    directory: bigint,
    name: string,
    type: 'blk' | 'chr' | 'sock' | 'fifo',
    attributes: SetAttributes,
    rdev: DeviceNumber,
  ): bigint;
  remove(caller: Caller, directory: bigint, name: string): void;
  rmdir(caller: Caller, directory: bigint, name: string): void;
  rename(caller: Caller, fromDirectory: bigint, fromName: string, toDirectory: bigint, toName: string): void;
  link(caller: Caller, fileid: bigint, directory: bigint, name: string): void;
  /**
   * Entries after `cookie` (0: from the start), at most `maxEntries`, without '.' and '..'; with
   * `plus`, each with its attributes and handle (what READDIRPLUS lists).
   */
  readdir(caller: Caller, directory: bigint, cookie: bigint, maxEntries: number, plus: boolean): DirectoryPage;
  /** 8 bytes naming the cookie space of a directory; stable across restarts. */
  cookieVerifier(directory: bigint): Buffer;
  fsstat(): Promise<FileSystemStats>;
  /**
   * Metadata changes are durable in groups (group commit, metadata-store.ts): this resolves once
   * every change made so far is, and is undefined when none waits. Await it before answering a
   * client; it rejects with a StorageError if the group could not be committed.
   */
  committed(): Promise<void> | undefined;
  /** Flushes everything and closes; the write verifier is kept for the next open. */
  close(): Promise<void>;
}

export type StorageErrorCode =
  | 'not-found'
  | 'exists'
  | 'not-dir'
  | 'is-dir'
  | 'not-empty'
  | 'access' // permission bits deny it (EACCES)
  | 'perm' // only the owner or root may (EPERM)
  | 'name-too-long'
  | 'invalid' // a bad name, a bad argument, a rename into its own subtree
  | 'no-space'
  | 'too-big' // beyond the largest file the backing file system holds (EFBIG)
  | 'too-many-links'
  | 'stale'
  | 'bad-handle'
  | 'not-supported'
  | 'io'
  /**
   * This node may no longer change the volume (its lease or epoch is gone: docs/design/
   * fencing.md). Nothing was changed, and the caller must not answer: a fenced node sends no
   * reply.
   */
  | 'fenced';

/**
 * Asked before every change a volume makes to its directory (metadata transactions, data
 * writes, truncations, removals): false refuses the change with StorageError 'fenced'.
 */
export type MutationGuard = () => boolean;

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  constructor(code: StorageErrorCode, message: string) {
    super(message);
    this.name = 'StorageError';
    this.code = code;
  }
}
