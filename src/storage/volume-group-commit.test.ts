// Group commit (metadata-store.ts): the metadata changes of one event-loop turn become durable
// together, and nothing may be answered before `committed()` resolves. These tests pin the
// boundary (visible at once, durable only after the commit), and what a commit that fails
// leaves: nothing of its batch, a new write verifier, and no data file discarded.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { DATA_FOLDER, METADATA_FILE } from './volume-directory.js';
import { dataFilePath } from './file-data.js';
import { StorageError } from './types.js';
import { ROOT, newFile, withTemporaryDirectory, withVolume } from './volume-fixture.js';
import { createVolume, openVolume } from './volume.js';

const run = promisify(execFile);
const VOLUME_MODULE = new URL('./volume.js', import.meta.url).href;
const isFenced = (error: unknown) => error instanceof StorageError && error.code === 'fenced';

/** Creates 'f' in a child process, which then exits at once, or after awaiting `committed()`. */
async function createThenExit(dir: string, awaitCommit: boolean): Promise<void> {
  const script = `
    const { openVolume } = await import(${JSON.stringify(VOLUME_MODULE)});
    const volume = await openVolume(${JSON.stringify(dir)});
    volume.create({ uid: 0, gid: 0, gids: [] }, volume.rootFileId, 'f', { mode: 'guarded', attributes: {} });
    ${awaitCommit ? 'await volume.committed();' : ''}
    process.exit(0);
  `;
  await run(process.execPath, ['--input-type=module', '-e', script]);
}

test('group commit: the changes of one turn share one commit, are visible at once, and none waits after it', async () => {
  // Goal: one sync serves every change of the turn; a reader in the same turn sees them all.
  await withVolume(async (volume) => {
    assert.equal(volume.committed(), undefined, 'nothing waits on a fresh volume');
    const first = newFile(volume, ROOT, volume.rootFileId, 'a');
    const waiting = volume.committed();
    assert.ok(waiting !== undefined);
    const second = newFile(volume, ROOT, volume.rootFileId, 'b');
    assert.equal(volume.committed(), waiting, 'the second change joins the first one\'s commit');
    assert.equal(volume.lookup(ROOT, volume.rootFileId, 'a'), first);
    assert.equal(volume.lookup(ROOT, volume.rootFileId, 'b'), second);
    await waiting;
    assert.equal(volume.committed(), undefined);
    newFile(volume, ROOT, volume.rootFileId, 'c');
    const next = volume.committed();
    assert.ok(next !== undefined && next !== waiting, 'a later turn has a commit of its own');
    await next;
  });
});

test('group commit: a change is durable once committed() resolves, and a crash before may lose it', async () => {
  // Goal: the boundary callers rely on: answer only after committed(), since before it a crash
  // takes the change back (with no reply sent, the client resends it).
  for (const awaitCommit of [false, true]) {
    await withTemporaryDirectory(async (parent) => {
      const dir = path.join(parent, 'v');
      await createVolume(dir, {});
      await createThenExit(dir, awaitCommit);
      const volume = await openVolume(dir);
      try {
        const found = (() => {
          try {
            volume.lookup(ROOT, volume.rootFileId, 'f');
            return true;
          } catch {
            return false;
          }
        })();
        assert.equal(found, awaitCommit, awaitCommit ? 'committed, so it survives the crash' : 'never committed, so it is gone');
      } finally {
        await volume.close();
      }
    });
  }
});

test('group commit: a commit the guard refuses rolls its whole batch back, keeps removed data, and changes the write verifier', async () => {
  // Goal: a node that lost its lease between the change and the commit commits nothing; the
  // waiters learn it (the NFS layer drops their calls), and unstable data acknowledged before
  // must be resent, so the verifier changes now and again at the next open.
  await withTemporaryDirectory(async (parent) => {
    const dir = path.join(parent, 'v');
    await createVolume(dir, {});
    let allowed = true;
    const volume = await openVolume(dir, { guard: () => allowed });
    const verifier = Buffer.from(volume.writeVerifier);
    const kept = newFile(volume, ROOT, volume.rootFileId, 'kept');
    await volume.write(ROOT, kept, 0n, Buffer.from('data'), 'file-sync');
    const dataPath = dataFilePath(path.join(dir, DATA_FOLDER), kept);

    volume.remove(ROOT, volume.rootFileId, 'kept');
    newFile(volume, ROOT, volume.rootFileId, 'new');
    allowed = false;
    await assert.rejects(volume.committed()!, isFenced);
    allowed = true;

    assert.equal(volume.lookup(ROOT, volume.rootFileId, 'kept'), kept, 'the removal was rolled back');
    assert.throws(() => volume.lookup(ROOT, volume.rootFileId, 'new'), (error: unknown) => error instanceof StorageError && error.code === 'not-found');
    assert.ok(existsSync(dataPath), 'the data file of a removal that did not commit is kept');
    assert.deepEqual((await volume.read(ROOT, kept, 0n, 10)).data, Buffer.from('data'));
    assert.notDeepEqual(volume.writeVerifier, verifier, 'unstable data acknowledged before may be gone: clients resend');
    const changed = Buffer.from(volume.writeVerifier);

    await assert.rejects(volume.close(), (error: unknown) => error instanceof StorageError && error.code === 'io');
    const reopened = await openVolume(dir);
    try {
      assert.notDeepEqual(reopened.writeVerifier, verifier);
      assert.notDeepEqual(reopened.writeVerifier, changed, 'not marked clean: the next open picks a new verifier');
    } finally {
      await reopened.close();
    }
  });
});

test('group commit: an inode row that cannot be written fails its whole batch at the commit, and leaves no stale attributes', async () => {
  // Goal: inode rows are written when their batch commits (deferred-inode-rows.ts), so a row
  // SQLite refuses fails the batch it was changed in: every waiter gets the error, nothing of
  // the batch stays in memory or on disk, and the batches after it work.
  await withTemporaryDirectory(async (parent) => {
    const dir = path.join(parent, 'v');
    await createVolume(dir, {});
    // A trigger that refuses one mode: a row the commit cannot write.
    const db = new Database(path.join(dir, METADATA_FILE));
    db.exec(`CREATE TRIGGER refuse_mode BEFORE UPDATE ON inodes WHEN NEW.mode = ${0o741} BEGIN SELECT RAISE(ABORT, 'refused'); END`);
    db.close();
    const volume = await openVolume(dir);
    const file = newFile(volume, ROOT, volume.rootFileId, 'f', 0o644);
    await volume.committed();
    const before = volume.getattr(file);
    const other = newFile(volume, ROOT, volume.rootFileId, 'other');
    volume.setattr(ROOT, file, { mode: 0o741 });
    assert.equal(volume.getattr(file).mode & 0o7777, 0o741, 'visible at once, as every change');
    await assert.rejects(volume.committed()!, /refused/);
    assert.deepEqual(volume.getattr(file), before, 'the file is as stored');
    assert.throws(() => volume.lookup(ROOT, volume.rootFileId, 'other'), (error: unknown) => error instanceof StorageError && error.code === 'not-found');
    assert.throws(() => volume.getattr(other), (error: unknown) => error instanceof StorageError && error.code === 'stale');
    volume.setattr(ROOT, file, { mode: 0o600 });
    await volume.committed();
    await assert.rejects(volume.close(), (error: unknown) => error instanceof StorageError && error.code === 'io');
    const reopened = await openVolume(dir);
    try {
      assert.equal(reopened.getattr(file).mode & 0o7777, 0o600, 'the next batch committed');
      assert.throws(() => reopened.lookup(ROOT, reopened.rootFileId, 'other'));
    } finally {
      await reopened.close();
    }
  });
});
