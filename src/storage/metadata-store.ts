// The metadata store of a volume: inodes, directory entries and a small key/value table, in one
// SQLite database (better-sqlite3) inside the volume directory. WAL mode with
// `synchronous = FULL`, so a committed transaction is on stable storage before it returns:
// RFC 1813 requires metadata operations to be stable before the reply. Every multi-statement
// change runs in `transaction`, so a crash leaves the metadata consistent. Fileids come from
// AUTOINCREMENT and are never reused; directory-entry row ids (also AUTOINCREMENT) are the
// stable basis of READDIR cookies. All integers come back as bigint (`defaultSafeIntegers`),
// since sizes and fileids may exceed 2^53; small ones are narrowed here, in one place.
//
// Group commit: `transaction` runs its work at once, as a savepoint inside a batch that is
// committed (one COMMIT, one sync of the WAL) when the event loop's turn ends, or at `commit`.
// Its changes are visible to every later read at once, but durable only then: whoever answers
// a client awaits `committed()` first, so no reply shows anything a crash could take back
// (RFC 1813's stable-storage rule holds per reply, and one sync serves every change of the
// turn). A batch whose commit fails is rolled back whole and every waiter gets the error; what
// its transactions were to do after the commit (`afterCommit`) is not done. The mutation guard
// is asked again at the commit, so a node whose lease ran out meanwhile commits nothing. Inode
// rows changed in a batch are written at its commit (deferred-inode-rows.ts): a directory that
// gains sixteen entries in a turn has its row written once, not sixteen times; a row SQLite
// refuses then fails its whole batch.
//
// Inodes and directory entries read are kept in bounded caches: this store is the only writer
// of its database (one node serves a volume at a time), and every change goes through the
// methods below, which update the caches as they update the rows. A transaction or commit that
// fails forgets what it touched, so the caches never show what was rolled back. Reading an
// inode through SQLite costs about 7 us (a read transaction on the WAL and 19 columns as
// bigints), and most NFS requests read two or three. The caches are BoundedMaps
// (platform/bounded-map.ts): a plain Map that evicts its oldest key, or keeps recency by
// delete-then-set, falls off V8 cliffs (36 us a lookup of the directory every CREATE updates,
// 9.6 us an eviction, at 32,768 entries).

import Database from 'better-sqlite3';
import { StorageError, type DeviceNumber, type FileType, type MutationGuard, type Timestamp } from './types.js';
import { assertMayMutate } from './mutation-guard.js';
import { BoundedMap } from '../platform/bounded-map.js';
import { DeferredInodeRows, type DeferredRow } from './deferred-inode-rows.js';

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

/**
 * `inode` as stored under `fileid`, with its link count, times and size replaced when given, built
 * field by field in the order of `toInode`: every inode then has one shape, and the code reading
 * them stays monomorphic. A spread made other shapes: one that appended the fileid cost a
 * volume-level CREATE loop 17.6 us a call against 15.7, and one that replaced a parent's times
 * 17.7-18.9 against 16.0-16.7.
 */
export function storedInode(
  fileid: bigint,
  inode: NewInode,
  nlink = inode.nlink,
  mtime = inode.mtime,
  ctime = inode.ctime,
  size = inode.size,
): Inode {
  return {
    fileid,
    generation: inode.generation,
    type: inode.type,
    mode: inode.mode,
    nlink,
    uid: inode.uid,
    gid: inode.gid,
    size,
    rdev: inode.rdev,
    atime: inode.atime,
    mtime,
    ctime,
    parent: inode.parent,
    target: inode.target,
    verifier: inode.verifier,
  };
}

/** The inode columns an insert or update writes, in order, with the value an inode binds to each. */
const INODE_FIELDS: readonly (readonly [column: string, value: (inode: NewInode) => unknown])[] = [
  ['generation', (inode) => inode.generation],
  ['type', (inode) => inode.type],
  ['mode', (inode) => inode.mode],
  ['nlink', (inode) => inode.nlink],
  ['uid', (inode) => inode.uid],
  ['gid', (inode) => inode.gid],
  ['size', (inode) => inode.size],
  ['rdev_major', (inode) => inode.rdev.major],
  ['rdev_minor', (inode) => inode.rdev.minor],
  ['atime_s', (inode) => inode.atime.seconds],
  ['atime_ns', (inode) => inode.atime.nanoseconds],
  ['mtime_s', (inode) => inode.mtime.seconds],
  ['mtime_ns', (inode) => inode.mtime.nanoseconds],
  ['ctime_s', (inode) => inode.ctime.seconds],
  ['ctime_ns', (inode) => inode.ctime.nanoseconds],
  ['parent', (inode) => inode.parent],
  ['target', (inode) => (inode.target === null ? null : Buffer.from(inode.target, 'latin1'))],
  ['verifier', (inode) => inode.verifier],
];

/** What an insert or a whole-row update binds, in INODE_FIELDS order. */
function inodeValues(inode: NewInode): unknown[] {
  return INODE_FIELDS.map(([, value]) => value(inode));
}

/** The UPDATE of these inode columns of the row `fileid`, bound by position (the fileid last). */
function updateText(columns: readonly string[]): string {
  return `UPDATE inodes SET ${columns.map((column) => `${column} = ?`).join(', ')} WHERE fileid = ?`;
}

/** The columns whose values differ from `before` to `after`, with `after`'s values (blobs compared by content). */
function inodeChanges(before: Inode, after: Inode): { columns: string[]; values: unknown[] } {
  const columns: string[] = [];
  const values: unknown[] = [];
  for (const [column, value] of INODE_FIELDS) {
    const was = value(before);
    const is = value(after);
    if (was === is || (Buffer.isBuffer(was) && Buffer.isBuffer(is) && was.equals(is))) continue;
    columns.push(column);
    values.push(is);
  }
  return { columns, values };
}

/** A character outside ASCII: the name was not all ASCII bytes (see `entries`). */
const NOT_ASCII = /[^\x00-\x7f]/;

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

/** A batch of transactions waiting for its commit. */
interface OpenBatch {
  readonly committed: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
  /** Run in order once the batch is durable. */
  readonly effects: (() => void)[];
}

/** Inodes kept in memory (about 0.5 KiB each). */
export const INODE_CACHE_ENTRIES_MAX = 32 * 1024;
/** Prepared partial inode updates kept; past them, an unusual change writes the whole row. */
const PARTIAL_UPDATES_MAX = 64;
/** Directory entries kept in memory (about 0.2 KiB each). */
export const ENTRY_CACHE_ENTRIES_MAX = 32 * 1024;

/** The entry cache's key of `name` in `directory` (names are latin1 byte strings, never with '/'). */
function entryKey(directory: bigint, name: string): string {
  return `${directory}/${name}`;
}

export class MetadataStore {
  readonly #db: Database.Database;
  readonly #inTransaction: (work: () => unknown) => unknown;
  /** Inodes by fileid (see the header). */
  readonly #inodes = new BoundedMap<bigint, Inode>(INODE_CACHE_ENTRIES_MAX);
  /** Fileids of inodes changed in the transaction in progress; undefined outside one. */
  #touched: Set<bigint> | undefined;
  /** Inode rows changed in the open batch, written at its commit (deferred-inode-rows.ts). */
  readonly #deferred = new DeferredInodeRows();
  /** Directory entries by directory and name (entryKey), and their keys by row id (for every entry cached). */
  readonly #entryKeys = new Map<bigint, string>();
  readonly #entries = new BoundedMap<string, EntryRow>(ENTRY_CACHE_ENTRIES_MAX, (key, entry) => {
    if (this.#entryKeys.get(entry.id) === key) this.#entryKeys.delete(entry.id);
  });
  /** The transaction in progress cached an entry (a failure then forgets them all). */
  #entriesTouched = false;
  /** The batch not yet committed (see the header). */
  #batch: OpenBatch | undefined;
  /** Partial inode updates by their columns (a handful of sets occur: see updateInode). */
  readonly #updates = new Map<string, Statement>();
  readonly #begin: Statement;
  readonly #commit: Statement;
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
    | 'entryName'
    | 'selectMeta'
    | 'upsertMeta',
    Statement
  >;

  private constructor(db: Database.Database) {
    this.#db = db;
    // Inside the open batch, better-sqlite3 runs each transaction as a savepoint.
    const transaction = db.transaction((work: () => unknown) => work());
    this.#begin = db.prepare('BEGIN IMMEDIATE');
    this.#commit = db.prepare('COMMIT');
    this.#inTransaction = (work) => transaction(work);
    const columns = INODE_FIELDS.map(([column]) => column);
    this.#statements = {
      selectInode: db.prepare(`SELECT ${INODE_COLUMNS} FROM inodes i WHERE i.fileid = ?`),
      selectGeneration: db.prepare('SELECT generation FROM inodes WHERE fileid = ?').pluck(),
      insertInode: db.prepare(`INSERT INTO inodes (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`),
      updateInode: db.prepare(updateText(columns)),
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
      // Rows as arrays, names as text (see `entries`): a READDIRPLUS page of 183 entries is read
      // in about 100 us of SQLite instead of 190 (a Buffer per name costs that much).
      listEntries: db
        .prepare('SELECT id, CAST(name AS TEXT), fileid FROM entries WHERE dir = ? AND id > ? ORDER BY id LIMIT ?')
        .raw(true),
      entryName: db.prepare('SELECT name FROM entries WHERE id = ?').pluck(),
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

  /** Commits what is pending, then closes; throws if that commit fails (nothing of it is kept). */
  close(): void {
    try {
      this.commit();
    } finally {
      this.#db.close();
    }
  }

  /** Asked before every change (see MutationGuard); the volume sets it when it opens. */
  guard: MutationGuard = () => true;

  /** Told when a batch could not be committed (after it was rolled back). */
  onCommitFailed: () => void = () => undefined;

  /**
   * Runs `work` as one transaction: all of it or none of it, in the batch the next commit makes
   * durable (see the header: await `committed()` before answering).
   */
  transaction<T>(work: () => T): T {
    return this.#change(work, true);
  }

  /**
   * `transaction` for work of one statement, which SQLite makes all or nothing by itself: no
   * savepoint around it (the pair of them was a fifth of a volume-level SETATTR: 5.1 -> 4.1 us).
   */
  oneStatement<T>(work: () => T): T {
    return this.#change(work, false);
  }

  #change<T>(work: () => T, savepoint: boolean): T {
    assertMayMutate(this.guard, 'metadata transaction');
    if (this.#touched !== undefined) return this.#inTransaction(work) as T; // nested: a savepoint
    this.#openBatch();
    this.#touched = new Set();
    this.#deferred.begin();
    let failed = true;
    try {
      const result = savepoint ? (this.#inTransaction(work) as T) : work();
      failed = false;
      return result;
    } catch (error) {
      for (const fileid of this.#touched) this.#inodes.delete(fileid);
      if (this.#entriesTouched) this.#forgetEntries();
      throw error;
    } finally {
      this.#deferred.end(failed);
      this.#touched = undefined;
      this.#entriesTouched = false;
    }
  }

  /** Resolves once every change made so far is durable; undefined when none is waiting. */
  committed(): Promise<void> | undefined {
    return this.#batch?.committed;
  }

  /** Runs `effect` once the changes made so far are durable (at once if they are). */
  afterCommit(effect: () => void): void {
    if (this.#batch === undefined) effect();
    else this.#batch.effects.push(effect);
  }

  /**
   * Commits the open batch now. If that fails, the batch is rolled back, its waiters get the
   * error, and so does the caller.
   */
  commit(): void {
    const batch = this.#batch;
    if (batch === undefined) return;
    this.#batch = undefined;
    try {
      assertMayMutate(this.guard, 'metadata commit');
      for (const row of this.#deferred.take()) this.#writeRow(row);
      this.#commit.run();
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec('ROLLBACK');
      this.#deferred.clear();
      this.#inodes.clear();
      this.#forgetEntries();
      const failure = storageErrorFromDatabase(error);
      this.onCommitFailed();
      batch.reject(failure);
      throw failure;
    }
    for (const effect of batch.effects) effect();
    batch.resolve();
  }

  #forgetEntries(): void {
    this.#entries.clear();
    this.#entryKeys.clear();
  }

  #openBatch(): void {
    if (this.#batch !== undefined) return;
    this.#begin.run();
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const committed = new Promise<void>((resolveBatch, rejectBatch) => {
      resolve = resolveBatch;
      reject = rejectBatch;
    });
    committed.catch(() => undefined); // a batch nobody waits for must not be an unhandled rejection
    this.#batch = { committed, resolve, reject, effects: [] };
    setImmediate(() => {
      try {
        this.commit();
      } catch {
        // Its waiters have the error.
      }
    });
  }

  inode(fileid: bigint): Inode | undefined {
    const cached = this.#inodes.get(fileid) ?? this.#deferred.latest(fileid);
    if (cached !== undefined) return cached;
    if (!isStorableInteger(fileid)) return undefined;
    const row = this.#statements.selectInode.get(fileid) as InodeRow | undefined;
    if (row === undefined) return undefined;
    const inode = toInode(row);
    this.#remember(inode);
    return inode;
  }

  /** The generation alone: the cheap existence check of the handle path. */
  generation(fileid: bigint): number | undefined {
    const cached = this.#inodes.get(fileid) ?? this.#deferred.latest(fileid);
    if (cached !== undefined) return cached.generation;
    if (!isStorableInteger(fileid)) return undefined;
    const value = this.#statements.selectGeneration.get(fileid) as bigint | undefined;
    return value === undefined ? undefined : Number(value);
  }

  insertInode(inode: NewInode): bigint {
    const result = this.#statements.insertInode.run(...inodeValues(inode));
    const fileid = BigInt(result.lastInsertRowid);
    this.#remember(storedInode(fileid, inode));
    return fileid;
  }

  /** Changes an inode; in a batch, its row is written when the batch commits (see #deferred). */
  updateInode(inode: Inode): void {
    // With no deferred row waiting, the cached inode is the stored row.
    const stored = () => this.#inodes.get(inode.fileid);
    if (this.#batch !== undefined) this.#deferred.set(inode, stored);
    else this.#changeRow(inode.fileid, () => this.#writeRow({ stored: stored(), latest: inode }));
    this.#remember(inode);
  }

  #writeRow({ stored, latest }: DeferredRow): void {
    // Only what changed, when the row is known: a directory gaining an entry writes its times
    // (and link count), 4 or 5 values instead of 18.
    const changes = stored === undefined ? undefined : inodeChanges(stored, latest);
    if (changes !== undefined && changes.columns.length === 0) return;
    const partial = changes === undefined ? undefined : this.#updateOf(changes.columns);
    if (partial === undefined) this.#statements.updateInode.run(...inodeValues(latest), latest.fileid);
    else partial.run(...changes!.values, latest.fileid);
  }

  /**
   * The UPDATE of these columns of one inode, prepared once per set of columns; undefined when
   * PARTIAL_UPDATES_MAX sets are prepared and this one is not among them.
   */
  #updateOf(columns: readonly string[]): Statement | undefined {
    const key = columns.join(',');
    let statement = this.#updates.get(key);
    if (statement === undefined && this.#updates.size < PARTIAL_UPDATES_MAX) {
      statement = this.#db.prepare(updateText(columns));
      this.#updates.set(key, statement);
    }
    return statement;
  }

  updateSizeAndTimes(fileid: bigint, size: bigint, mtime: Timestamp, ctime: Timestamp): void {
    const waiting = this.#deferred.latest(fileid);
    if (waiting !== undefined) return this.updateInode({ ...waiting, size, mtime, ctime });
    this.#changeRow(fileid, () =>
      this.#statements.updateSizeAndTimes.run({
        fileid,
        size,
        mtime_s: mtime.seconds,
        mtime_ns: mtime.nanoseconds,
        ctime_s: ctime.seconds,
        ctime_ns: ctime.nanoseconds,
      }),
    );
    const cached = this.#inodes.get(fileid);
    if (cached !== undefined) this.#remember({ ...cached, size, mtime, ctime });
  }

  /** Runs a statement that changes `fileid`'s row; if it fails, no cached copy is left. */
  #changeRow(fileid: bigint, statement: () => unknown): void {
    try {
      statement();
    } catch (error) {
      this.#forget(fileid);
      throw error;
    }
  }

  deleteInode(fileid: bigint): void {
    this.#forget(fileid);
    this.#deferred.delete(fileid);
    this.#statements.deleteInode.run(fileid);
  }

  /** Caches `inode`, the newest entry; the oldest goes when the cache is full. */
  #remember(inode: Inode): void {
    this.#touched?.add(inode.fileid);
    // Replaced in place (see the header: never delete-then-set).
    this.#inodes.set(inode.fileid, inode);
  }

  /** Drops `fileid` from the cache (its row is gone, or a statement changing it failed). */
  #forget(fileid: bigint): void {
    this.#inodes.delete(fileid);
  }

  entry(directory: bigint, name: string): EntryRow | undefined {
    const key = entryKey(directory, name);
    const cached = this.#entries.get(key);
    if (cached !== undefined) return cached;
    const row = this.#statements.selectEntry.get(directory, nameBytes(name)) as EntryRowRaw | undefined;
    if (row === undefined) return undefined;
    const entry = toEntry(row);
    this.#rememberEntry(key, entry);
    return entry;
  }

  /** Adds `name` to `directory`; 'exists' if it is there (the unique index checks: callers need not). */
  insertEntry(directory: bigint, name: string, fileid: bigint): void {
    let result: Database.RunResult;
    try {
      result = this.#statements.insertEntry.run(directory, nameBytes(name), fileid);
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'SQLITE_CONSTRAINT_UNIQUE') throw error;
      throw new StorageError('exists', `${JSON.stringify(name)} exists in directory ${directory}`);
    }
    this.#rememberEntry(entryKey(directory, name), { id: BigInt(result.lastInsertRowid), name, fileid });
  }

  deleteEntry(id: bigint): void {
    this.#forgetEntry(id);
    this.#statements.deleteEntry.run(id);
  }

  /** Renames an entry in place; its row id, and so its cookie, stays. */
  moveEntry(id: bigint, directory: bigint, name: string): void {
    this.#forgetEntry(id);
    this.#statements.moveEntry.run(directory, nameBytes(name), id);
  }

  #rememberEntry(key: string, entry: EntryRow): void {
    if (this.#touched !== undefined) this.#entriesTouched = true;
    this.#entries.set(key, entry);
    this.#entryKeys.set(entry.id, key);
  }

  #forgetEntry(id: bigint): void {
    const key = this.#entryKeys.get(id);
    if (key === undefined) return;
    this.#entryKeys.delete(id);
    this.#entries.delete(key);
  }

  hasEntries(directory: bigint): boolean {
    return this.#statements.anyEntry.get(directory) !== undefined;
  }

  /** Entries of `directory` with a row id above `afterId`, in row-id order. */
  entries(directory: bigint, afterId: bigint, limit: number): EntryRow[] {
    const rows = this.#statements.listEntries.all(directory, afterId, limit) as [id: bigint, text: string, fileid: bigint][];
    return rows.map(([id, text, fileid]) => ({ id, name: NOT_ASCII.test(text) ? this.#entryName(id) : text, fileid }));
  }

  /**
   * A name's bytes as latin1, read as a blob: for the names whose text (UTF-8 decoded) is not
   * ASCII. Only names of ASCII bytes decode to ASCII text, and those decode exactly.
   */
  #entryName(id: bigint): string {
    return (this.#statements.entryName.get(id) as Buffer).toString('latin1');
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
