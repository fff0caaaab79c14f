// The contents of regular files: one data file per fileid under the volume's data folder
// (`data/<low byte of fileid, 2 hex>/<fileid, 16 hex>`), created on the first write, so a file
// never written has no data file. The logical size lives in the metadata store, not here: bytes
// between the end of a data file and the logical size read as zeros, which is how a volume
// holds sparse files of any size up to 2^63-1 on any backing file system. Fileids are never
// reused, so a data file left behind by a crash can never show up in another file.
//
// Invariant: a data file holds no byte past its file's logical size (the metadata store's,
// or the newer one of unstable writes) that a later growth of the size could show. POSIX and
// RFC 1813 3.3.2 / 3.3.7 want the bytes between the old end and a write further out, or a
// SETATTR that grows the size, to read as zeros. Two things keep it:
// - A write raises the logical size before its bytes are issued (the caller's `beforeWrite`),
//   so the size always covers every byte written or in flight, and cutting a data file to the
//   size is safe at any moment, even with writes in flight on other descriptors.
// - A crash breaks the first rule: unstable bytes reach the data file while the size that
//   covered them was only in memory. So every descriptor, when it is opened (first use, or
//   after eviction from the cache), is cut to the logical size before anyone uses it: one
//   fstat per open, not per write; the cut (and its fdatasync) happens only after a crash.
//   SETATTR, which opens no descriptor, cuts to the old size before growing (`truncate`).
// Recovery does not cut every file at open: that costs one stat per file of the volume on
// the takeover path, where the lazy cut costs nothing until a file is used.
// Not covered: a SETATTR that shrinks a file while writes to it are in flight can leave their
// bytes past the new size (they cannot be recalled once issued); clients flush before they
// truncate.
//
// I/O goes through Node's asynchronous fs calls so it does not block the event loop, except
// the cut on open, which is synchronous so that no write is issued between reading the size
// and cutting to it. Open descriptors are kept in a bounded least-recently-used cache; a
// descriptor in use by an operation is closed when that operation releases it.

import { constants as fsConstants } from 'node:fs';
import * as fs from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { StorageError, writeDataLength, type MutationGuard, type WriteData } from './types.js';
import { assertMayMutate } from './mutation-guard.js';
import { bulkBuffers } from '../platform/buffer-pool.js';
import { bytesAfter } from '../platform/chunks.js';
import { dataFileReaper, type DataFileReaper } from './data-file-reaper.js';
import { PendingSyncs } from '../platform/pending-syncs.js';

/** Data files kept open; each costs one descriptor of the process. */
export const OPEN_DATA_FILES_MAX = 256;
/** Subfolders of the data folder, named by the fileid's low byte, so none grows too large. */
export const DATA_FOLDER_FAN_OUT = 256;
/** Node's fs.write takes a number position (a bigint one is silently ignored): the limit of a write. */
export const DATA_OFFSET_MAX = BigInt(Number.MAX_SAFE_INTEGER);

const openFile = promisify(fs.open);
const closeFile = promisify(fs.close);
const writevFile = promisify(fs.writev);
const fdatasync = promisify(fs.fdatasync);
const fsync = promisify(fs.fsync);

/** fs.read with a bigint position (which fs.read takes, unlike fs.write). */
function readAt(fd: number, buffer: Buffer, at: number, length: number, position: bigint): Promise<number> {
  return new Promise((resolve, reject) => {
    fs.read(fd, buffer, at, length, position, (error, bytesRead) => {
      if (error === null) resolve(bytesRead);
      else reject(error);
    });
  });
}

interface OpenDataFile {
  readonly fd: Promise<number>;
  /** Opened with O_CREAT: a create-less open that failed does not answer a write. */
  readonly creating: boolean;
  users: number;
  /** Out of the cache: closed when its last user releases it. */
  evicted: boolean;
}

/** Maps a failed system call onto a storage error: EFBIG, ENOSPC and EDQUOT mean something. */
export function storageErrorFromSystem(error: unknown, what: string): StorageError {
  if (error instanceof StorageError) return error;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const message = `${what}: ${error instanceof Error ? error.message : String(error)}`;
  if (code === 'EFBIG') return new StorageError('too-big', message);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new StorageError('no-space', message);
  return new StorageError('io', message);
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function folderName(fileid: bigint): string {
  return (fileid & 0xffn).toString(16).padStart(2, '0');
}

/** The path of the data file of `fileid` in the data folder `folder`. */
export function dataFilePath(folder: string, fileid: bigint): string {
  return join(folder, folderName(fileid), fileid.toString(16).padStart(16, '0'));
}

export class FileData {
  readonly #folder: string;
  /** The file's logical size as readers see it (pending unstable size included); 0 if it is gone. */
  readonly #logicalSize: (fileid: bigint) => bigint;
  readonly #open = new Map<bigint, OpenDataFile>();
  /** Subfolders holding a data file created since their last fsync began, and the fsyncs in progress. */
  readonly #unsyncedFolders: PendingSyncs<string>;
  /** Descriptors waiting for their open to end before they go to the reaper, so `close` can wait for them. */
  readonly #background = new Set<Promise<void>>();
  /** Closes evicted descriptors and deletes discarded data files. */
  readonly #reaper: DataFileReaper;
  readonly #fsyncFolder: (path: string) => Promise<void>;

  /** Asked before every change (see MutationGuard); the volume sets it when it opens. */
  guard: MutationGuard = () => true;

  constructor(
    folder: string,
    logicalSize: (fileid: bigint) => bigint,
    options: { readonly reaper?: DataFileReaper; readonly fsyncFolder?: (path: string) => Promise<void> } = {},
  ) {
    this.#folder = folder;
    this.#logicalSize = logicalSize;
    this.#reaper = options.reaper ?? dataFileReaper;
    this.#fsyncFolder = options.fsyncFolder ?? fsyncFolder;
    this.#unsyncedFolders = new PendingSyncs((name) => this.#syncFolderAsync(name));
  }

  /** Creates the data folder and its fan-out subfolders (at volume creation). */
  static createLayout(folder: string): void {
    fs.mkdirSync(folder);
    for (let index = 0; index < DATA_FOLDER_FAN_OUT; index += 1) {
      fs.mkdirSync(join(folder, index.toString(16).padStart(2, '0')));
    }
    syncFolder(folder);
  }

  path(fileid: bigint): string {
    return dataFilePath(this.#folder, fileid);
  }

  /**
   * Exactly `length` bytes from `offset`; where the data file has none, zeros. The buffer may be
   * lent by `bulkBuffers`: whoever sends it on gives it back (the RPC server, once replied).
   */
  async read(fileid: bigint, offset: bigint, length: number): Promise<Buffer> {
    // A pooled buffer is not zeroed: every byte not read from the file is zeroed below.
    const buffer = bulkBuffers.take(length);
    if (length === 0 || offset > DATA_OFFSET_MAX) return buffer.fill(0);
    const entry = await this.#acquire(fileid, false);
    if (entry === undefined) return buffer.fill(0);
    try {
      const fd = await entry.fd;
      let filled = 0;
      while (filled < length) {
        const bytesRead = await readAt(fd, buffer, filled, length - filled, offset + BigInt(filled));
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      return buffer.fill(0, filled);
    } catch (error) {
      bulkBuffers.give(buffer);
      throw storageErrorFromSystem(error, `read of file ${fileid}`);
    } finally {
      this.#release(entry);
    }
  }

  /**
   * Writes all of `data` at `offset`, creating the data file if needed; not synced.
   * `beforeWrite` runs once the data file is open (and cut to the logical size), just before
   * the first byte is issued: the caller raises the logical size there to cover the write.
   */
  async write(fileid: bigint, offset: bigint, data: WriteData, beforeWrite: () => void): Promise<void> {
    if (offset + BigInt(writeDataLength(data)) > DATA_OFFSET_MAX) {
      throw new StorageError('too-big', `write of file ${fileid}: offset ${offset} is beyond the backing store`);
    }
    const entry = await this.#acquireForWrite(fileid);
    try {
      const fd = await entry.fd;
      // As late as possible: the last check before bytes reach the file (fencing.md, "Stalls").
      assertMayMutate(this.guard, `write of file ${fileid}`);
      beforeWrite();
      // One gathered write of every chunk; a short write goes on from where it stopped.
      let chunks = Buffer.isBuffer(data) ? [data] : data;
      let position = Number(offset);
      while (chunks.length > 0) {
        const { bytesWritten } = await writevFile(fd, chunks, position);
        position += bytesWritten;
        chunks = bytesAfter(chunks, bytesWritten);
      }
    } catch (error) {
      throw storageErrorFromSystem(error, `write of file ${fileid}`);
    } finally {
      this.#release(entry);
    }
  }

  /** Makes the data file's contents and its name stable (fdatasync, then its folder's fsync). */
  async sync(fileid: bigint): Promise<void> {
    const entry = await this.#acquire(fileid, false);
    if (entry === undefined) return;
    try {
      await fdatasync(await entry.fd);
    } catch (error) {
      throw storageErrorFromSystem(error, `sync of file ${fileid}`);
    } finally {
      this.#release(entry);
    }
    // A folder fsync another request began after the name was made covers it (platform/pending-syncs.ts).
    await this.#unsyncedFolders.synced(folderName(fileid));
  }

  /**
   * Shrinks the data file to `size` if it is longer, and makes that stable. Synchronous: SETATTR
   * is, and the shrink must be on disk before the metadata says so, or a later extension of the
   * file could show the old bytes instead of zeros. Safe with writes in flight as long as `size`
   * is at least the logical size before them (they raised it before they were issued).
   */
  truncate(fileid: bigint, size: bigint): void {
    assertMayMutate(this.guard, `truncate of file ${fileid}`);
    const path = this.path(fileid);
    try {
      const length = fs.statSync(path, { bigint: true }).size;
      if (length <= size) return;
      const fd = fs.openSync(path, fsConstants.O_RDWR);
      try {
        fs.ftruncateSync(fd, Number(size));
        fs.fdatasyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (error) {
      if (isMissing(error)) return;
      throw storageErrorFromSystem(error, `truncate of file ${fileid}`);
    }
  }

  /**
   * Deletes the data file of a deleted inode (if it has one) in the background, through the
   * reaper; never fails, and `close` waits for it. Nothing else waits for it: the fileid is never
   * reused, so no later file can meet this data file.
   */
  discard(fileid: bigint): void {
    if (!this.guard()) return; // fenced: the file now belongs to the next owner
    const entry = this.#open.get(fileid);
    if (entry !== undefined) this.#evict(fileid, entry);
    // Missing (never written), or it cannot be removed: that only wastes space, since its fileid
    // is never reused. The inode is already gone, so the removal has happened.
    this.#reaper.unlink(this.path(fileid));
  }

  /** Makes every data file's name stable and closes every descriptor. */
  async close(): Promise<void> {
    for (const folder of this.#unsyncedFolders.keys()) await this.#unsyncedFolders.synced(folder);
    for (const [fileid, entry] of [...this.#open]) this.#evict(fileid, entry);
    await Promise.all([...this.#background]);
    await this.#reaper.settled();
  }

  async #acquireForWrite(fileid: bigint): Promise<OpenDataFile> {
    const entry = await this.#acquire(fileid, true);
    if (entry !== undefined) return entry;
    // A create-less open (a read's) was in flight and found nothing: open again, creating.
    const created = await this.#acquire(fileid, true);
    if (created === undefined) throw new StorageError('io', `write of file ${fileid}: data file vanished`);
    return created;
  }

  /** The open data file, or undefined when it does not exist and `create` is false. */
  async #acquire(fileid: bigint, create: boolean): Promise<OpenDataFile | undefined> {
    let entry = this.#open.get(fileid);
    if (entry === undefined) {
      entry = { fd: this.#openDescriptor(fileid, create), creating: create, users: 0, evicted: false };
      this.#open.set(fileid, entry);
      this.#evictBeyondLimit();
    } else {
      this.#open.delete(fileid);
      this.#open.set(fileid, entry);
    }
    entry.users += 1;
    try {
      await entry.fd;
      return entry;
    } catch (error) {
      this.#release(entry);
      if (this.#open.get(fileid) === entry) this.#open.delete(fileid);
      if (isMissing(error) && (!create || !entry.creating)) return undefined;
      throw storageErrorFromSystem(error, `open of file ${fileid}`);
    }
  }

  /** Opens the data file and cuts it to the logical size (see the opening comment). */
  async #openDescriptor(fileid: bigint, create: boolean): Promise<number> {
    const { fd, created } = await this.#openPath(fileid, create);
    if (created) return fd; // empty: nothing to cut
    try {
      this.#cutToLogicalSize(fd, fileid);
    } catch (error) {
      await closeFile(fd).catch(() => undefined);
      throw error;
    }
    return fd;
  }

  /**
   * Cuts bytes a crash left past the logical size, durably (a second crash must not bring them
   * back under a size committed later). Synchronous from reading the size to the cut: a write
   * issued before has raised the size over its bytes, and none can be issued in between.
   */
  #cutToLogicalSize(fd: number, fileid: bigint): void {
    const length = fs.fstatSync(fd, { bigint: true }).size;
    const size = this.#logicalSize(fileid);
    if (length <= size) return;
    // size < length, and length fits a number: the backing file system holds it.
    fs.ftruncateSync(fd, Number(size));
    fs.fdatasyncSync(fd);
  }

  /**
   * Opens the data file, creating it if `create`. A file of logical size 0 is most likely new
   * (never written), so its open tries to create first: a new file's first write then costs one
   * open instead of a failed one and a second (one trip through libuv's pool fewer, and no error
   * object); otherwise the plain open goes first.
   */
  async #openPath(fileid: bigint, create: boolean): Promise<{ fd: number; created: boolean }> {
    const path = this.path(fileid);
    const tryCreateFirst = create && this.#logicalSize(fileid) === 0n;
    if (!tryCreateFirst) {
      try {
        return { fd: await openFile(path, fsConstants.O_RDWR), created: false };
      } catch (error) {
        if (!create || !isMissing(error)) throw error;
      }
    }
    try {
      const fd = await openFile(path, fsConstants.O_RDWR | fsConstants.O_CREAT | fsConstants.O_EXCL, 0o600);
      this.#unsyncedFolders.changed(folderName(fileid));
      return { fd, created: true };
    } catch (error) {
      // It exists: not new after all, or another open (of an evicted descriptor) made it.
      if ((error as NodeJS.ErrnoException | undefined)?.code !== 'EEXIST') throw error;
    }
    return { fd: await openFile(path, fsConstants.O_RDWR), created: false };
  }

  #release(entry: OpenDataFile): void {
    entry.users -= 1;
    if (entry.evicted && entry.users === 0) this.#closeDescriptor(entry);
  }

  #evictBeyondLimit(): void {
    while (this.#open.size > OPEN_DATA_FILES_MAX) {
      const oldest = this.#open.entries().next();
      if (oldest.done === true) return;
      this.#evict(oldest.value[0], oldest.value[1]);
    }
  }

  #evict(fileid: bigint, entry: OpenDataFile): void {
    if (this.#open.get(fileid) === entry) this.#open.delete(fileid);
    entry.evicted = true;
    if (entry.users === 0) this.#closeDescriptor(entry);
  }

  #closeDescriptor(entry: OpenDataFile): void {
    // A failed close loses nothing: everything that had to be stable went through fdatasync.
    const closing = entry.fd.then(
      (fd) => this.#reaper.close(fd),
      () => undefined, // never opened: nothing to close
    );
    this.#inBackground(closing);
  }

  /** Tracks work nobody awaits and whose failure loses nothing, so `close` can wait for it. */
  #inBackground(work: Promise<void>): void {
    const settled = work.catch(() => undefined).finally(() => this.#background.delete(settled));
    this.#background.add(settled);
  }

  async #syncFolderAsync(folder: string): Promise<void> {
    try {
      await this.#fsyncFolder(join(this.#folder, folder));
    } catch (error) {
      throw storageErrorFromSystem(error, `sync of data folder ${folder}`);
    }
  }
}

/** fsyncs a folder without blocking the event loop. */
async function fsyncFolder(path: string): Promise<void> {
  const fd = await openFile(path, fsConstants.O_RDONLY);
  try {
    await fsync(fd);
  } finally {
    await closeFile(fd);
  }
}

/** fsyncs a folder, so the names created in it survive a crash. */
export function syncFolder(path: string): void {
  const fd = fs.openSync(path, fsConstants.O_RDONLY);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
