import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileData } from './file-data.js';
import { withTemporaryDirectory } from './volume-fixture.js';

/** A folder fsync that waits to be let go, and counts the calls. */
class HeldFolderSync {
  readonly calls: string[] = [];
  readonly #held: (() => void)[] = [];
  #called: (() => void) | undefined;

  readonly fsyncFolder = (path: string): Promise<void> => {
    this.calls.push(path);
    this.#called?.();
    return new Promise((resolve) => this.#held.push(resolve));
  };

  /** Resolves once there have been `count` calls. */
  async called(count: number): Promise<void> {
    while (this.calls.length < count) await new Promise<void>((resolve) => (this.#called = resolve));
  }

  releaseAll(): void {
    for (const release of this.#held.splice(0)) release();
  }
}

/**
 * Whether `promise` settles within `ms`. For a sync that must not finish while a folder fsync
 * is held: it has a data fsync (libuv's pool) to do first, far shorter than this, so a sync that
 * does not wait for the folder is seen finishing.
 */
async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}

const HELD_MS = 500;

async function withFileData(work: (data: FileData, folderSync: HeldFolderSync) => Promise<void>): Promise<void> {
  await withTemporaryDirectory(async (directory) => {
    const folder = join(directory, 'data');
    FileData.createLayout(folder);
    const sizes = new Map<bigint, bigint>();
    const folderSync = new HeldFolderSync();
    const data = new FileData(folder, (fileid) => sizes.get(fileid) ?? 0n, { fsyncFolder: folderSync.fsyncFolder });
    const write = data.write.bind(data);
    data.write = (fileid, offset, bytes, beforeWrite) =>
      write(fileid, offset, bytes, () => {
        sizes.set(fileid, offset + BigInt(bytes.length));
        beforeWrite();
      });
    try {
      await work(data, folderSync);
    } finally {
      folderSync.releaseAll();
      await data.close();
    }
  });
}

// Fileids whose data files share the folder "01" (named by the low byte).
const A = 0x101n;
const B = 0x201n;
const C = 0x301n;
const BYTES = Buffer.from('x');

test('file data: a sync waits for the fsync of the folder its new file is in, even one another sync began', async () => {
  // Goal: a COMMIT answers only once the data file's name is stable. Two COMMITs of new files in
  // one folder share one folder fsync, and neither is done before it is.
  await withFileData(async (data, folderSync) => {
    await data.write(A, 0n, BYTES, () => undefined);
    await data.write(B, 0n, BYTES, () => undefined);
    const first = data.sync(A);
    await folderSync.called(1);
    const second = data.sync(B);
    assert.equal(await settlesWithin(second, HELD_MS), false, 'the second sync waits for the folder fsync in progress');
    assert.equal(await settlesWithin(first, 0), false);
    folderSync.releaseAll();
    await Promise.all([first, second]);
    assert.equal(folderSync.calls.length, 1, 'one fsync served both');
  });
});

test('file data: a file created after a folder fsync began gets a fsync of its own', async () => {
  // Goal: a fsync that began before a name was created does not count for it.
  await withFileData(async (data, folderSync) => {
    await data.write(A, 0n, BYTES, () => undefined);
    const first = data.sync(A);
    await folderSync.called(1);
    await data.write(C, 0n, BYTES, () => undefined);
    const later = data.sync(C);
    await folderSync.called(2);
    assert.equal(folderSync.calls[1], folderSync.calls[0], 'the same folder, synced again');
    folderSync.releaseAll();
    await Promise.all([first, later]);
  });
});

test('file data: a write to a file of size 0 whose data file exists opens it and cuts it, as any other', async () => {
  // Goal: a size of 0 makes the open try to create first (file-data.ts, #openPath); a data file
  // already there (a file cut to 0, or bytes a crash left) is opened instead, and cut to the size.
  await withTemporaryDirectory(async (directory) => {
    const folder = join(directory, 'data');
    FileData.createLayout(folder);
    const first = new FileData(folder, () => 6n);
    await first.write(A, 0n, Buffer.from('stale!'), () => undefined);
    await first.close();
    let size = 0n;
    const second = new FileData(folder, () => size);
    try {
      await second.write(A, 0n, Buffer.from('ab'), () => (size = 2n));
      size = 6n; // as a SETATTR would grow it: what lies past 2 must read as zeros
      assert.deepEqual(await second.read(A, 0n, 6), Buffer.from('ab\0\0\0\0'));
    } finally {
      await second.close();
    }
  });
});
