// The metadata store of a volume: inodes, directory entries and a small key/value table, in one
// SQLite database (better-sqlite3) inside the volume directory. WAL mode with
// `synchronous = FULL`, so a committed transaction is on stable storage before it returns:
// RFC 1813 requires metadata operations to be stable before the reply. Every multi-statement
// change runs in `transaction`, so a crash leaves the metadata consistent. Fileids come from
// AUTOINCREMENT and are never reused; directory-entry row ids (also AUTOINCREMENT) are the
// stable basis of READDIR cookies. All integers come back as bigint (`defaultSafeIntegers`),
// since sizes and fileids may exceed 2^53; small ones are narrowed here, in one place.

import Database from 'better-sqlite3';
import { StorageError, type DeviceNumber, type FileType, type MutationGuard, type Timestamp } from './types.js';
import { assertMayMutate } from './mutation-guard.js';

/** Bumped when the schema changes; `openVolume` refuses versions it does not know. */
export const METADATA_SCHEMA_VERSION = 1;

/** Keys of the meta table. Values are bytes; text values are UTF-8. */
export const META_KEYS = {
  schemaVersion: 'schema-version',
  volumeId: 'volume-id',
  rootFileId: 'root-fileid',
  /** RFC 1813 3.3.7: 8 bytes, kept across a clean close, replaced after a crash. */
  writeVerifier: 'write-verifier',
  /** 'open' while a node serves the volume, 'clean' after `close` made everything stable. */
  state: 'state',
} as const;

export const VOLUME_STATE_OPEN = 'open';
export const VOLUME_STATE_CLEAN = 'clean';

/** One file as stored. `target` and names are byte strings held as latin1 (see types.ts). */
export interface Inode {
  readonly fileid: bigint;
  readonly generation: number;
  readonly type: FileType;
  readonly mode: number;
  readonly nlink: number;
  readonly uid: number;
  readonly gid: number;
  readonly size: bigint;
  readonly rdev: DeviceNumber;
  readonly atime: Timestamp;
  readonly mtime: Timestamp;
  readonly ctime: Timestamp;
  /** The parent directory of a directory (the root's is itself); null for other types. */
  readonly parent: bigint | null;
  /** The target of a symbolic link; null for other types. */
  readonly target: string | null;
  /** RFC 1813 3.3.8: the verifier of an exclusive create, until the next SETATTR. */
  readonly verifier: Buffer | null;
}

export type NewInode = Omit<Inode, 'fileid'>;

export interface EntryRow {
  readonly id: bigint;
  readonly name: string;
  readonly fileid: bigint;
}

export interface EntryWithInode extends EntryRow {
  readonly inode: Inode;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS inodes (
  fileid      INTEGER PRIMARY KEY AUTOINCREMENT,
  generation  INTEGER NOT NULL,
  type        TEXT    NOT NULL,
  mode        INTEGER NOT NULL,
  nlink       INTEGER NOT NULL,
  uid         INTEGER NOT NULL,
  gid         INTEGER NOT NULL,
  size        INTEGER NOT NULL,
  rdev_major  INTEGER NOT NULL,
  rdev_minor  INTEGER NOT NULL,
  atime_s     INTEGER NOT NULL,
  atime_ns    INTEGER NOT NULL,
  mtime_s     INTEGER NOT NULL,
  mtime_ns    INTEGER NOT NULL,
  ctime_s     INTEGER NOT NULL,
  ctime_ns    INTEGER NOT NULL,
  parent      INTEGER,
  target      BLOB,
  verifier    BLOB
);
CREATE TABLE IF NOT EXISTS entries (
  id      INTEGER PRIMARY KEY AUTOINCREMENT,
  dir     INTEGER NOT NULL,
  name    BLOB    NOT NULL,
  fileid  INTEGER NOT NULL,
  UNIQUE (dir, name)
);
CREATE INDEX IF NOT EXISTS entries_by_dir_and_id ON entries (dir, id);
CREATE TABLE IF NOT EXISTS meta (
  key    TEXT PRIMARY KEY,
  value  BLOB NOT NULL
);
`;

const INODE_COLUMNS = `i.fileid, i.generation, i.type, i.mode, i.nlink, i.uid, i.gid, i.size,
  i.rdev_major, i.rdev_minor, i.atime_s, i.atime_ns, i.mtime_s, i.mtime_ns, i.ctime_s, i.ctime_ns,
  i.parent, i.target, i.verifier`;

/** A row as better-sqlite3 returns it with safe integers on. */
interface InodeRow {
  fileid: bigint;
  generation: bigint;
  type: string;
  mode: bigint;
  nlink: bigint;
  uid: bigint;
  gid: bigint;
  size: bigint;
  rdev_major: bigint;
  rdev_minor: bigint;
  atime_s: bigint;
  atime_ns: bigint;
  mtime_s: bigint;
  mtime_ns: bigint;
  ctime_s: bigint;
  ctime_ns: bigint;
  parent: bigint | null;
  target: Buffer | null;
  verifier: Buffer | null;
}

interface EntryRowRaw {
  entry_id: bigint;
  entry_name: Buffer;
  entry_fileid: bigint;
}

const FILE_TYPES: readonly FileType[] = ['reg', 'dir', 'blk', 'chr', 'lnk', 'sock', 'fifo'];

function toFileType(value: string): FileType {
  const type = FILE_TYPES.find((candidate) => candidate === value);
  if (type === undefined) throw new Error(`metadata store: unknown file type ${JSON.stringify(value)}`);
  return type;
}

function toInode(row: InodeRow): Inode {
  return {
    fileid: row.fileid,
    generation: Number(row.generation),
    type: toFileType(row.type),
    mode: Number(row.mode),
    nlink: Number(row.nlink),
    uid: Number(row.uid),
    gid: Number(row.gid),
    size: row.size,
    rdev: { major: Number(row.rdev_major), minor: Number(row.rdev_minor) },
    atime: { seconds: Number(row.atime_s), nanoseconds: Number(row.atime_ns) },
    mtime: { seconds: Number(row.mtime_s), nanoseconds: Number(row.mtime_ns) },
    ctime: { seconds: Number(row.ctime_s), nanoseconds: Number(row.ctime_ns) },
    parent: row.parent,
    target: row.target === null ? null : row.target.toString('latin1'),
    verifier: row.verifier,
  };
}

function inodeParameters(inode: NewInode): Record<string, unknown> {
  return {
    generation: inode.generation,
    type: inode.type,
    mode: inode.mode,
    nlink: inode.nlink,
    uid: inode.uid,
    gid: inode.gid,
    size: inode.size,
    rdev_major: inode.rdev.major,
    rdev_minor: inode.rdev.minor,
    atime_s: inode.atime.seconds,
    atime_ns: inode.atime.nanoseconds,
    mtime_s: inode.mtime.seconds,
    mtime_ns: inode.mtime.nanoseconds,
    ctime_s: inode.ctime.seconds,
    ctime_ns: inode.ctime.nanoseconds,
    parent: inode.parent,
    target: inode.target === null ? null : Buffer.from(inode.target, 'latin1'),
    verifier: inode.verifier,
  };
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** SQLite integers are signed 64-bit; a fileid from a handle is unsigned 64-bit. */
function isStorableInteger(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX;
}

function nameBytes(name: string): Buffer {
  return Buffer.from(name, 'latin1');
}

type Statement = Database.Statement<unknown[], unknown>;

export class MetadataStore {
  readonly #db: Database.Database;
  readonly #inTransaction: (work: () => unknown) => unknown;
  readonly #statements: Record<
    | 'selectInode'
    | 'selectGeneration'
    | 'insertInode'
    | 'updateInode'
    | 'updateSizeAndTimes'
    | 'deleteInode'
    | 'selectEntry'
    | 'insertEntry'
    | 'deleteEntry'
    | 'moveEntry'
    | 'anyEntry'
    | 'listEntries'
    | 'listEntriesWithInodes'
    | 'selectMeta'
    | 'upsertMeta',
    Statement
  >;

  private constructor(db: Database.Database) {
    this.#db = db;
    const transaction = db.transaction((work: () => unknown) => work());
    this.#inTransaction = (work) => transaction(work);
    const insertColumns = `generation, type, mode, nlink, uid, gid, size, rdev_major, rdev_minor,
      atime_s, atime_ns, mtime_s, mtime_ns, ctime_s, ctime_ns, parent, target, verifier`;
    const insertValues = insertColumns
      .split(',')
      .map((column) => `@${column.trim()}`)
      .join(', ');
    const updateAssignments = insertColumns
      .split(',')
      .map((column) => `${column.trim()} = @${column.trim()}`)
      .join(', ');
    this.#statements = {
      selectInode: db.prepare(`SELECT ${INODE_COLUMNS} FROM inodes i WHERE i.fileid = ?`),
      selectGeneration: db.prepare('SELECT generation FROM inodes WHERE fileid = ?').pluck(),
      insertInode: db.prepare(`INSERT INTO inodes (${insertColumns}) VALUES (${insertValues})`),
      updateInode: db.prepare(`UPDATE inodes SET ${updateAssignments} WHERE fileid = @fileid`),
      updateSizeAndTimes: db.prepare(
        `UPDATE inodes SET size = @size, mtime_s = @mtime_s, mtime_ns = @mtime_ns,
           ctime_s = @ctime_s, ctime_ns = @ctime_ns WHERE fileid = @fileid`,
      ),
      deleteInode: db.prepare('DELETE FROM inodes WHERE fileid = ?'),
      selectEntry: db.prepare(
        'SELECT id AS entry_id, name AS entry_name, fileid AS entry_fileid FROM entries WHERE dir = ? AND name = ?',
      ),
      insertEntry: db.prepare('INSERT INTO entries (dir, name, fileid) VALUES (?, ?, ?)'),
      deleteEntry: db.prepare('DELETE FROM entries WHERE id = ?'),
      moveEntry: db.prepare('UPDATE entries SET dir = ?, name = ? WHERE id = ?'),
      anyEntry: db.prepare('SELECT 1 FROM entries WHERE dir = ? LIMIT 1').pluck(),
      listEntries: db.prepare(
        `SELECT id AS entry_id, name AS entry_name, fileid AS entry_fileid FROM entries
         WHERE dir = ? AND id > ? ORDER BY id LIMIT ?`,
      ),
      listEntriesWithInodes: db.prepare(
        `SELECT e.id AS entry_id, e.name AS entry_name, e.fileid AS entry_fileid, ${INODE_COLUMNS}
         FROM entries e JOIN inodes i ON i.fileid = e.fileid
         WHERE e.dir = ? AND e.id > ? ORDER BY e.id LIMIT ?`,
      ),
      selectMeta: db.prepare('SELECT value FROM meta WHERE key = ?').pluck(),
      upsertMeta: db.prepare(
        'INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value',
      ),
    };
  }

  /** Opens (and with `create`, creates) the database at `path`. */
  static open(path: string, options: { create: boolean }): MetadataStore {
    const db = new Database(path, { fileMustExist: !options.create });
    try {
      db.defaultSafeIntegers(true);
      db.pragma('journal_mode = WAL');
      // RFC 1813: metadata must be stable before the reply; FULL syncs the WAL at every commit.
      db.pragma('synchronous = FULL');
      db.pragma('foreign_keys = OFF');
      if (options.create) db.exec(SCHEMA);
      return new MetadataStore(db);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  close(): void {
    this.#db.close();
  }

  /** Asked before every change (see MutationGuard); the volume sets it when it opens. */
  guard: MutationGuard = () => true;

  /** Runs `work` as one transaction: all of it commits (durably) or none of it. */
  transaction<T>(work: () => T): T {
    assertMayMutate(this.guard, 'metadata transaction');
    return this.#inTransaction(work) as T;
  }

  inode(fileid: bigint): Inode | undefined {
    if (!isStorableInteger(fileid)) return undefined;
    const row = this.#statements.selectInode.get(fileid) as InodeRow | undefined;
    return row === undefined ? undefined : toInode(row);
  }

  /** The generation alone: the cheap existence check of the handle path. */
  generation(fileid: bigint): number | undefined {
    if (!isStorableInteger(fileid)) return undefined;
    const value = this.#statements.selectGeneration.get(fileid) as bigint | undefined;
    return value === undefined ? undefined : Number(value);
  }

  insertInode(inode: NewInode): bigint {
    const result = this.#statements.insertInode.run(inodeParameters(inode));
    return BigInt(result.lastInsertRowid);
  }

  updateInode(inode: Inode): void {
    this.#statements.updateInode.run({ ...inodeParameters(inode), fileid: inode.fileid });
  }

  updateSizeAndTimes(fileid: bigint, size: bigint, mtime: Timestamp, ctime: Timestamp): void {
    this.#statements.updateSizeAndTimes.run({
      fileid,
      size,
      mtime_s: mtime.seconds,
      mtime_ns: mtime.nanoseconds,
      ctime_s: ctime.seconds,
      ctime_ns: ctime.nanoseconds,
    });
  }

  deleteInode(fileid: bigint): void {
    this.#statements.deleteInode.run(fileid);
  }

  entry(directory: bigint, name: string): EntryRow | undefined {
    const row = this.#statements.selectEntry.get(directory, nameBytes(name)) as EntryRowRaw | undefined;
    return row === undefined ? undefined : toEntry(row);
  }

  insertEntry(directory: bigint, name: string, fileid: bigint): void {
    this.#statements.insertEntry.run(directory, nameBytes(name), fileid);
  }

  deleteEntry(id: bigint): void {
    this.#statements.deleteEntry.run(id);
  }

  /** Renames an entry in place; its row id, and so its cookie, stays. */
  moveEntry(id: bigint, directory: bigint, name: string): void {
    this.#statements.moveEntry.run(directory, nameBytes(name), id);
  }

  hasEntries(directory: bigint): boolean {
    return this.#statements.anyEntry.get(directory) !== undefined;
  }

  /** Entries of `directory` with a row id above `afterId`, in row-id order. */
  entries(directory: bigint, afterId: bigint, limit: number): EntryRow[] {
    const rows = this.#statements.listEntries.all(directory, afterId, limit) as EntryRowRaw[];
    return rows.map(toEntry);
  }

  /** As `entries`, with each entry's inode joined in the same query. */
  entriesWithInodes(directory: bigint, afterId: bigint, limit: number): EntryWithInode[] {
    const rows = this.#statements.listEntriesWithInodes.all(directory, afterId, limit) as (EntryRowRaw &
      InodeRow)[];
    return rows.map((row) => ({ ...toEntry(row), inode: toInode(row) }));
  }

  meta(key: string): Buffer | undefined {
    return this.#statements.selectMeta.get(key) as Buffer | undefined;
  }

  setMeta(key: string, value: Buffer): void {
    assertMayMutate(this.guard, `meta ${key}`);
    this.#statements.upsertMeta.run(key, value);
  }
}

function toEntry(row: EntryRowRaw): EntryRow {
  return { id: row.entry_id, name: row.entry_name.toString('latin1'), fileid: row.entry_fileid };
}

/** SQLite failures that mean something to a client; anything else is a broken invariant. */
export function storageErrorFromDatabase(error: unknown): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error;
  const message = `metadata store: ${error instanceof Error ? error.message : code}`;
  if (code.startsWith('SQLITE_FULL')) return new StorageError('no-space', message);
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CORRUPT')) return new StorageError('io', message);
  return error;
}
