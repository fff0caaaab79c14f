import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { DeferredInodeRows } from './deferred-inode-rows.js';
import { MetadataStore, type Inode, type NewInode } from './metadata-store.js';
import { withTemporaryDirectory } from './volume-fixture.js';

const NEW_DIRECTORY: NewInode = {
  generation: 7,
  type: 'dir',
  mode: 0o755,
  nlink: 2,
  uid: 0,
  gid: 0,
  size: 4096n,
  rdev: { major: 0, minor: 0 },
  atime: { seconds: 1, nanoseconds: 0 },
  mtime: { seconds: 1, nanoseconds: 0 },
  ctime: { seconds: 1, nanoseconds: 0 },
  parent: null,
  target: null,
  verifier: null,
};

const version = (fileid: bigint, nlink: number): Inode => ({ ...NEW_DIRECTORY, fileid, nlink });

test('deferred rows: the newest version is read, the stored one kept, and take empties the set in order', () => {
  // Goal: the commit writes each row once, from what SQLite held to the newest version.
  const rows = new DeferredInodeRows();
  const stored = version(1n, 2);
  rows.set(version(1n, 3), () => stored);
  rows.set(version(2n, 5), () => undefined);
  rows.set(version(1n, 4), () => assert.fail('asked again while a row waits'));
  assert.equal(rows.latest(1n)?.nlink, 4);
  assert.equal(rows.latest(3n), undefined);
  assert.deepEqual(
    rows.take().map((row) => [row.latest.fileid, row.latest.nlink, row.stored?.nlink]),
    [
      [1n, 4, 2],
      [2n, 5, undefined],
    ],
  );
  assert.equal(rows.size, 0);
});

test('deferred rows: a failed transaction puts back what it replaced and deleted; a good one keeps its changes', () => {
  // Goal: the rows match the savepoint that SQLite rolled back.
  const rows = new DeferredInodeRows();
  rows.set(version(1n, 3), () => undefined);
  rows.set(version(2n, 3), () => undefined);
  rows.begin();
  rows.set(version(1n, 9), () => undefined);
  rows.delete(2n);
  rows.set(version(3n, 9), () => undefined);
  rows.set(version(1n, 10), () => undefined);
  rows.end(true);
  assert.equal(rows.latest(1n)?.nlink, 3, 'the version before the transaction, not its first change');
  assert.equal(rows.latest(2n)?.nlink, 3, 'a deletion taken back');
  assert.equal(rows.latest(3n), undefined, 'a row first changed in it is gone');
  rows.begin();
  rows.set(version(1n, 11), () => undefined);
  rows.end(false);
  assert.equal(rows.latest(1n)?.nlink, 11);
  rows.end(true);
  assert.equal(rows.latest(1n)?.nlink, 11, 'outside a transaction there is nothing to put back');
});

test('deferred rows: the store reads a deferred row before its commit and writes it once at the commit', async () => {
  // Goal: through MetadataStore: a failed transaction leaves the batch's earlier change, and
  // the row on disk is the last good version.
  await withTemporaryDirectory(async (directory) => {
    const path = join(directory, 'metadata.sqlite');
    const store = MetadataStore.open(path, { create: true });
    const fileid = store.transaction(() => store.insertInode(NEW_DIRECTORY));
    store.commit();
    store.transaction(() => store.updateInode(version(fileid, 3)));
    assert.throws(() =>
      store.transaction(() => {
        store.updateInode(version(fileid, 4));
        throw new Error('this transaction fails');
      }),
    );
    assert.equal(store.inode(fileid)?.nlink, 3, 'the change before the failed transaction');
    const peek = new Database(path, { readonly: true });
    try {
      assert.equal(peek.prepare('SELECT nlink FROM inodes WHERE fileid = ?').pluck().get(fileid), 2, 'not written before the commit');
    } finally {
      peek.close();
    }
    store.close();
    const reopened = MetadataStore.open(path, { create: false });
    try {
      assert.equal(reopened.inode(fileid)?.nlink, 3, 'written at the commit');
    } finally {
      reopened.close();
    }
  });
});
