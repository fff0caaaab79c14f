// Unstable writes of a volume (RFC 1813 3.3.7, 3.3.21): data written with UNSTABLE is in the
// data file but not synced, and the size and times it gives its file are held here, ahead of
// the metadata store, so a stream of unstable writes costs no metadata commit. `overlay` lets
// every reader see them at once. They reach stable storage at COMMIT (`stabilize`: data first,
// then the size that makes it visible), at close (`stabilizeAll`), when more than
// UNSTABLE_FILES_MAX files are waiting (the oldest is stabilized), and, metadata only, every
// PENDING_METADATA_FLUSH_MS. A crash may lose them: that is what the write verifier reports.
//
// A write is recorded here just before its bytes are issued, not after they land, so the size
// readers see always covers every byte in the data file that was written or is in flight
// (file-data.ts relies on it to cut crash leftovers safely). A write that fails is withdrawn
// when nothing has changed the file since.

import type { FileData } from './file-data.js';
import { storedInode, type Inode, type MetadataStore } from './metadata-store.js';
import type { Timestamp } from './types.js';
import { PendingSyncs } from '../platform/pending-syncs.js';

/** Files with unstable writes not yet made stable; past it, the oldest is synced. */
export const UNSTABLE_FILES_MAX = 1024;
/** How often sizes and times of unstable writes are written to the metadata store. */
export const PENDING_METADATA_FLUSH_MS = 1000;

/** Size and times of unstable writes, ahead of the metadata store. */
interface PendingMetadata {
  readonly size: bigint;
  readonly mtime: Timestamp;
  readonly ctime: Timestamp;
}

/** What `wrote` recorded, so that `withdraw` can undo it. */
export interface RecordedWrite {
  readonly fileid: bigint;
  readonly recorded: PendingMetadata;
  /** The pending metadata before; undefined: the store's. */
  readonly previous: PendingMetadata | undefined;
}

export class UnstableWrites {
  readonly #store: MetadataStore;
  readonly #data: FileData;
  readonly #pending = new Map<bigint, PendingMetadata>();
  /** Files with data written unstable since their last data sync began, and the syncs in progress. */
  readonly #dirty: PendingSyncs<bigint>;
  readonly #flushTimer: NodeJS.Timeout;

  constructor(store: MetadataStore, data: FileData) {
    this.#store = store;
    this.#data = data;
    this.#dirty = new PendingSyncs((fileid) => this.#data.sync(fileid));
    this.#flushTimer = setInterval(() => this.#flushQuietly(), PENDING_METADATA_FLUSH_MS);
    this.#flushTimer.unref();
  }

  /** The inode as the unstable writes left it. */
  overlay(inode: Inode): Inode {
    const pending = this.#pending.get(inode.fileid);
    if (pending === undefined) return inode;
    return storedInode(inode.fileid, inode, inode.nlink, pending.mtime, pending.ctime, pending.size);
  }

  /** Records a write whose data is about to be issued to the data file, not to be synced. */
  wrote(fileid: bigint, size: bigint, now: Timestamp): RecordedWrite {
    const previous = this.#pending.get(fileid);
    const recorded = { size, mtime: now, ctime: now };
    this.#pending.set(fileid, recorded);
    this.#dirty.changed(fileid);
    return { fileid, recorded, previous };
  }

  /**
   * Undoes `wrote` for a write that failed, if nothing has changed the file's metadata since
   * (no later write, SETATTR or flush): the data file is cut back to the size before (some of
   * the failed bytes may have landed past it), then that size and those times come back.
   * Otherwise, or if the cut fails, the size stays raised: the range reads as what landed, or
   * zeros, which RFC 1813 allows after a failed WRITE; never as older bytes.
   */
  withdraw(write: RecordedWrite): void {
    const { fileid, recorded, previous } = write;
    if (this.#pending.get(fileid) !== recorded) return;
    const size = previous?.size ?? this.#store.inode(fileid)?.size;
    if (size === undefined) return;
    try {
      this.#data.truncate(fileid, size);
    } catch {
      return;
    }
    if (previous === undefined) this.#pending.delete(fileid);
    else this.#pending.set(fileid, previous);
  }

  /** The store now holds the inode as `overlay` showed it (a metadata operation saved it). */
  saved(fileid: bigint): void {
    this.#pending.delete(fileid);
  }

  /** The inode is gone: nothing of it is to be made stable. */
  forget(fileid: bigint): void {
    this.#pending.delete(fileid);
    this.#dirty.forget(fileid);
  }

  /** Syncs the file's data, then commits its size and times. */
  async stabilize(fileid: bigint): Promise<void> {
    // A sync another request began after these writes covers them (platform/pending-syncs.ts).
    await this.#dirty.synced(fileid);
    this.#flush([fileid]);
  }

  /** Keeps the files waiting for a sync at UNSTABLE_FILES_MAX by syncing the oldest. */
  async bound(): Promise<void> {
    while (this.#dirty.size > UNSTABLE_FILES_MAX) {
      const oldest = this.#dirty.oldest();
      if (oldest === undefined) return;
      await this.stabilize(oldest);
    }
  }

  /** Stabilizes everything and stops the timer (at close); throws the first failure. */
  async stabilizeAll(): Promise<void> {
    clearInterval(this.#flushTimer);
    let failure: unknown;
    for (const fileid of this.#dirty.keys()) {
      try {
        await this.#dirty.synced(fileid);
      } catch (error) {
        failure ??= error;
      }
    }
    this.#flush([...this.#pending.keys()]);
    if (failure !== undefined) throw failure;
  }

  #flush(fileids: readonly bigint[]): void {
    const flushed: bigint[] = [];
    this.#store.transaction(() => {
      for (const fileid of fileids) {
        const pending = this.#pending.get(fileid);
        if (pending === undefined) continue;
        this.#store.updateSizeAndTimes(fileid, pending.size, pending.mtime, pending.ctime);
        flushed.push(fileid);
      }
    });
    for (const fileid of flushed) this.#pending.delete(fileid);
  }

  #flushQuietly(): void {
    if (this.#pending.size === 0) return;
    try {
      this.#flush([...this.#pending.keys()]);
    } catch {
      // The metadata stays pending in memory; commit or close reports the failure.
    }
  }
}
