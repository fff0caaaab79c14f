// Inode rows changed in the open batch of the metadata store, written when the batch commits
// (metadata-store.ts). Every CREATE, MKDIR, REMOVE or RMDIR changes its directory's times, and a
// batch of them in one directory wrote the directory's row once each: an UPDATE was about a
// quarter of a volume-level MKDIR (20 us -> 15 without it). Written at the commit, inside the same
// SQLite transaction, the row is written once a batch, and what is durable when is unchanged: the
// batch commits whole or not at all, as before.
//
// Until then this holds the newest version of each row, which is what reads see (the store's
// inode cache may have let it go), and the row as SQLite holds it when that was known, so the
// commit writes only the columns that changed. A transaction that fails puts back the versions it
// replaced: its savepoint took back its statements, and this takes back its deferred rows.

import type { Inode } from './metadata-store.js';

/** A row to write: its newest version, and what SQLite holds now (undefined: not known). */
export interface DeferredRow {
  readonly stored: Inode | undefined;
  readonly latest: Inode;
}

export class DeferredInodeRows {
  readonly #rows = new Map<bigint, DeferredRow>();
  #inTransaction = false;
  /** The rows as they were before the transaction in progress changed them (made at its first change). */
  #replaced: Map<bigint, DeferredRow | undefined> | undefined;

  get size(): number {
    return this.#rows.size;
  }

  /** The newest version of `fileid`'s row, if it waits to be written. */
  latest(fileid: bigint): Inode | undefined {
    return this.#rows.get(fileid)?.latest;
  }

  /** `inode` is its row's newest version; `stored` is asked for the row as written when none waits. */
  set(inode: Inode, stored: () => Inode | undefined): void {
    const waiting = this.#rows.get(inode.fileid);
    this.#remember(inode.fileid, waiting);
    this.#rows.set(inode.fileid, { stored: waiting === undefined ? stored() : waiting.stored, latest: inode });
  }

  /** The row is deleted: nothing of it is to be written. */
  delete(fileid: bigint): void {
    const waiting = this.#rows.get(fileid);
    if (waiting === undefined) return;
    this.#remember(fileid, waiting);
    this.#rows.delete(fileid);
  }

  /** A transaction begins: what it replaces is kept until `end`. */
  begin(): void {
    this.#inTransaction = true;
  }

  /** The transaction ended; if it failed, the rows it replaced come back. */
  end(failed: boolean): void {
    const replaced = this.#replaced;
    this.#replaced = undefined;
    this.#inTransaction = false;
    if (!failed || replaced === undefined) return;
    for (const [fileid, row] of replaced) {
      if (row === undefined) this.#rows.delete(fileid);
      else this.#rows.set(fileid, row);
    }
  }

  /** Every row waiting, in the order first changed; none waits after. */
  take(): DeferredRow[] {
    const rows = [...this.#rows.values()];
    this.#rows.clear();
    return rows;
  }

  /** Forgets every row (their batch was rolled back). */
  clear(): void {
    this.#rows.clear();
  }

  #remember(fileid: bigint, row: DeferredRow | undefined): void {
    if (!this.#inTransaction) return;
    this.#replaced ??= new Map();
    if (!this.#replaced.has(fileid)) this.#replaced.set(fileid, row);
  }
}
