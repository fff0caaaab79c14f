import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { FileData } from './file-data.js';
import { MetadataStore, type NewInode } from './metadata-store.js';
import { UnstableWrites } from './unstable-writes.js';
import { withTemporaryDirectory } from './volume-fixture.js';

const NOW = { seconds: 1_700_000_000, nanoseconds: 0 };
const NEW_FILE: NewInode = {
  generation: 1,
  type: 'reg',
  mode: 0o644,
  nlink: 1,
  uid: 0,
  gid: 0,
  size: 0n,
  rdev: { major: 0, minor: 0 },
  atime: NOW,
  mtime: NOW,
  ctime: NOW,
  parent: null,
  target: null,
  verifier: null,
};

/** The data syncs of a FileData, held until let go (or at once, once `holding` is off), and counted by file. */
class HeldSyncs {
  readonly calls: bigint[] = [];
  holding = true;
  readonly #held: (() => void)[] = [];

  sync(fileid: bigint): Promise<void> {
    this.calls.push(fileid);
    if (!this.holding) return Promise.resolve();
    return new Promise((resolve) => this.#held.push(resolve));
  }

  releaseAll(): void {
    for (const release of this.#held.splice(0)) release();
  }
}

async function withUnstableWrites(files: number, work: (unstable: UnstableWrites, fileids: bigint[], syncs: HeldSyncs) => Promise<void>): Promise<void> {
  await withTemporaryDirectory(async (directory) => {
    const store = MetadataStore.open(join(directory, 'metadata.sqlite'), { create: true });
    const fileids = store.transaction(() => Array.from({ length: files }, () => store.insertInode(NEW_FILE)));
    store.commit();
    const syncs = new HeldSyncs();
    const unstable = new UnstableWrites(store, syncs as unknown as FileData);
    try {
      await work(unstable, fileids, syncs);
    } finally {
      syncs.holding = false;
      syncs.releaseAll();
      await unstable.stabilizeAll();
      store.close();
    }
  });
}

/** Whether `promise` has settled once the callbacks pending now have run (the syncs here are held, not slow). */
async function hasSettled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

test('unstable writes: a COMMIT waits for a sync of its file that another request began', async () => {
  // Goal: the sync in progress covers the writes before it began, and every COMMIT of the file
  // answers only after it; a write after it began needs a sync of its own.
  await withUnstableWrites(1, async (unstable, [file], syncs) => {
    unstable.wrote(file!, 10n, NOW);
    const first = unstable.stabilize(file!);
    const second = unstable.stabilize(file!);
    assert.equal(await hasSettled(second), false, 'the second COMMIT waits for the sync in progress');
    assert.deepEqual(syncs.calls, [file], 'one sync serves both');
    unstable.wrote(file!, 20n, NOW);
    const third = unstable.stabilize(file!);
    assert.equal(syncs.calls.length, 2, 'a write after the sync began gets a sync of its own');
    syncs.releaseAll();
    await Promise.all([first, second, third]);
  });
});
