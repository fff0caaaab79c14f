// The data path of a volume: READ, WRITE and COMMIT of regular files (RFC 1813 3.3.6, 3.3.7,
// 3.3.21) over the data files (file-data.ts) and the unstable writes (unstable-writes.ts), with
// knfsd's permission rules. Storage layer; DirectoryVolume (volume.ts) keeps the namespace and
// delegates here, lending its inode lookup and its transactions.

import { FILE_SIZE_MAX } from './attribute-changes.js';
import type { FileData } from './file-data.js';
import type { Inode, MetadataStore } from './metadata-store.js';
import { isOwner, modeAfterWrite, permits } from './permissions.js';
import { StorageError, writeDataLength, type Caller, type Stability, type Timestamp, type WriteData } from './types.js';
import type { RecordedWrite, UnstableWrites } from './unstable-writes.js';

/** The most bytes one read returns (RFC 1813 3.3.6: a read may be short). */
export const READ_BYTES_MAX = 1_048_576;

/** What the data path uses of its volume. */
export interface FileContentsParts {
  readonly store: MetadataStore;
  readonly data: FileData;
  readonly unstable: UnstableWrites;
  readonly now: () => Timestamp;
  /** The inode with its pending unstable size and times; 'stale' when it is gone. */
  readonly inode: (fileid: bigint) => Inode;
  /** Saves the inode in one durable transaction. */
  readonly save: (inode: Inode) => void;
}

function maxBigint(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}

export class FileContents {
  readonly #store: MetadataStore;
  readonly #data: FileData;
  readonly #unstable: UnstableWrites;
  readonly #now: () => Timestamp;
  readonly #inode: (fileid: bigint) => Inode;
  readonly #save: (inode: Inode) => void;

  constructor(parts: FileContentsParts) {
    this.#store = parts.store;
    this.#data = parts.data;
    this.#unstable = parts.unstable;
    this.#now = parts.now;
    this.#inode = parts.inode;
    this.#save = parts.save;
  }

  async read(caller: Caller, fileid: bigint, offset: bigint, count: number): Promise<{ data: Buffer; eof: boolean }> {
    const inode = this.#regularFile(fileid);
    // knfsd: the owner may read whatever the mode says (open-then-read of a 0200 file it made),
    // and so may anyone who may execute it (NFSD_MAY_READ_IF_EXEC: clients read to execute).
    const permission = permits(caller, inode);
    if (!isOwner(caller, inode) && !permission.read && !permission.execute) {
      throw new StorageError('access', `no read permission on file ${fileid}`);
    }
    if (offset < 0n || offset >= inode.size) return { data: Buffer.alloc(0), eof: true };
    const wanted = BigInt(Math.max(0, Math.min(Math.floor(count), READ_BYTES_MAX)));
    const remaining = inode.size - offset;
    const length = Number(wanted < remaining ? wanted : remaining);
    const data = await this.#data.read(fileid, offset, length);
    return { data, eof: offset + BigInt(length) >= inode.size };
  }

  /** See DirectoryVolume.write for what each stability means. */
  async write(caller: Caller, fileid: bigint, offset: bigint, data: WriteData, stability: Stability): Promise<Stability> {
    const inode = this.#regularFile(fileid);
    // knfsd (NFSD_MAY_OWNER_OVERRIDE): the owner may write to its file whatever the mode says;
    // clients rely on it for open(O_CREAT | O_WRONLY, 0444) followed by write.
    if (!isOwner(caller, inode) && !permits(caller, inode).write) {
      throw new StorageError('access', `no write permission on file ${fileid}`);
    }
    const length = writeDataLength(data);
    const end = offset + BigInt(length);
    if (offset < 0n || end > FILE_SIZE_MAX) {
      throw new StorageError('too-big', `a write to ${end} is beyond the largest file size ${FILE_SIZE_MAX}`);
    }
    const mode = modeAfterWrite(caller, inode.mode);
    if (mode !== inode.mode) this.#save({ ...inode, mode, ctime: this.#now() });
    if (length > 0) {
      // The size covers the bytes before they are issued (see unstable-writes.ts).
      let recorded: RecordedWrite | undefined;
      let removed = false;
      const recordWrite = (): void => {
        const stored = this.#store.inode(fileid);
        if (stored === undefined) {
          removed = true;
          return;
        }
        const current = this.#unstable.overlay(stored);
        recorded = this.#unstable.wrote(fileid, maxBigint(current.size, end), this.#now());
      };
      try {
        await this.#data.write(fileid, offset, data, recordWrite);
      } catch (error) {
        if (recorded !== undefined) this.#unstable.withdraw(recorded);
        throw error;
      }
      if (removed) {
        // Removed before the data file was opened: this write made a data file nobody owns.
        this.#data.discard(fileid);
        return stability === 'unstable' ? 'unstable' : 'file-sync';
      }
    }
    if (stability === 'unstable') {
      await this.#unstable.bound();
      return 'unstable';
    }
    await this.#unstable.stabilize(fileid);
    return 'file-sync';
  }

  async commit(fileid: bigint): Promise<void> {
    this.#inode(fileid);
    await this.#unstable.stabilize(fileid);
  }

  #regularFile(fileid: bigint): Inode {
    const inode = this.#inode(fileid);
    if (inode.type === 'dir') throw new StorageError('is-dir', `file ${fileid} is a directory`);
    if (inode.type !== 'reg') throw new StorageError('invalid', `file ${fileid} is not a regular file`);
    return inode;
  }
}
