import assert from 'node:assert/strict';
import { test } from 'node:test';
import { join } from 'node:path';
import { ALICE, newFile, ROOT, sharedDirectory, tickingClock, withTemporaryDirectory, withVolume } from './volume-fixture.js';
import Database from 'better-sqlite3';
import { createVolume, openVolume } from './volume.js';
import { METADATA_FILE } from './volume-directory.js';

const VERIFIER_A = Buffer.from('01234567');
const VERIFIER_B = Buffer.from('76543210');

test("namespace: lookup finds '.', '..' and names, and the root is its own parent", async () => {
  // Goal: the dot names resolve as POSIX says, and a missing name is not-found.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const dir = volume.mkdir(ROOT, root, 'd', {});
    const file = newFile(volume, ROOT, dir, 'f');
    assert.equal(volume.lookup(ROOT, dir, 'f'), file);
    assert.equal(volume.lookup(ROOT, dir, '.'), dir);
    assert.equal(volume.lookup(ROOT, dir, '..'), root);
    assert.equal(volume.lookup(ROOT, root, '..'), root);
    assert.throws(() => volume.lookup(ROOT, dir, 'missing'), { code: 'not-found' });
    assert.throws(() => volume.lookup(ROOT, file, 'x'), { code: 'not-dir' });
  });
});

test('namespace: bad names are invalid and long ones name-too-long', async () => {
  // Goal: names are 1..255 bytes without '/' or NUL; '.' and '..' cannot be created.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    assert.throws(() => newFile(volume, ROOT, root, ''), { code: 'invalid' });
    assert.throws(() => newFile(volume, ROOT, root, 'a/b'), { code: 'invalid' });
    assert.throws(() => newFile(volume, ROOT, root, 'a\0b'), { code: 'invalid' });
    assert.throws(() => newFile(volume, ROOT, root, 'x'.repeat(256)), { code: 'name-too-long' });
    assert.throws(() => volume.mkdir(ROOT, root, '.', {}), { code: 'exists' });
    assert.throws(() => newFile(volume, ROOT, root, '..'), { code: 'exists' });
    const longest = newFile(volume, ROOT, root, 'x'.repeat(255));
    assert.equal(volume.lookup(ROOT, root, 'x'.repeat(255)), longest);
    const bytes = newFile(volume, ROOT, root, '\u00e9\u00ff');
    assert.equal(volume.lookup(ROOT, root, '\u00e9\u00ff'), bytes, 'latin1 byte names round-trip');
  });
});

test('namespace: new files get the default modes, or the mode given', async () => {
  // Goal: 0644 files, 0755 directories, 0777 symbolic links when the client gives no mode.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const file = volume.create(ROOT, root, 'f', { mode: 'guarded', attributes: {} });
    const dir = volume.mkdir(ROOT, root, 'd', {});
    const link = volume.symlink(ROOT, root, 'l', 'f', {});
    const given = volume.create(ROOT, root, 'g', { mode: 'guarded', attributes: { mode: 0o600, size: 10n } });
    assert.equal(volume.getattr(file).mode, 0o644);
    assert.equal(volume.getattr(dir).mode, 0o755);
    assert.equal(volume.getattr(link).mode, 0o777);
    assert.equal(volume.getattr(given).mode, 0o600);
    assert.equal(volume.getattr(given).size, 10n);
    assert.equal(volume.getattr(file).type, 'reg');
  });
});

test('namespace: GUARDED create of an existing name fails, UNCHECKED truncates and returns it', async () => {
  // Goal: RFC 1813 3.3.8 create modes; UNCHECKED applies only the size to an existing file.
  await withVolume(async (volume) => {
    const root = volume.rootFileId;
    const file = volume.create(ROOT, root, 'f', { mode: 'guarded', attributes: { mode: 0o640 } });
    await volume.write(ROOT, file, 0n, Buffer.from('content'), 'file-sync');
    assert.throws(() => volume.create(ROOT, root, 'f', { mode: 'guarded', attributes: {} }), { code: 'exists' });
    const again = volume.create(ROOT, root, 'f', { mode: 'unchecked', attributes: { mode: 0o600, size: 0n } });
    assert.equal(again, file);
    assert.equal(volume.getattr(file).size, 0n);
    assert.equal(volume.getattr(file).mode, 0o640, 'the mode of an existing file is kept');
    volume.mkdir(ROOT, root, 'd', {});
    assert.throws(() => volume.create(ROOT, root, 'd', { mode: 'unchecked', attributes: {} }), { code: 'exists' });
    assert.throws(() => volume.create(ROOT, file, 'x', { mode: 'unchecked', attributes: {} }), { code: 'not-dir' });
  });
});

test('namespace: an EXCLUSIVE create retransmission returns the same file until a setattr', async () => {
  // Goal: RFC 1813 3.3.8: the stored verifier recognises a retransmission, SETATTR clears it.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const file = volume.create(ROOT, root, 'f', { mode: 'exclusive', verifier: VERIFIER_A });
    assert.equal(volume.create(ROOT, root, 'f', { mode: 'exclusive', verifier: VERIFIER_A }), file);
    assert.throws(() => volume.create(ROOT, root, 'f', { mode: 'exclusive', verifier: VERIFIER_B }), {
      code: 'exists',
    });
    volume.setattr(ROOT, file, { mode: 0o600 });
    assert.throws(() => volume.create(ROOT, root, 'f', { mode: 'exclusive', verifier: VERIFIER_A }), {
      code: 'exists',
    });
    newFile(volume, ROOT, root, 'plain');
    assert.throws(() => volume.create(ROOT, root, 'plain', { mode: 'exclusive', verifier: VERIFIER_A }), {
      code: 'exists',
    });
  });
});

test('namespace: mkdir and rmdir keep the link counts of directories', async () => {
  // Goal: a directory has 2 links plus one per subdirectory.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const a = volume.mkdir(ROOT, root, 'a', {});
    assert.equal(volume.getattr(root).nlink, 3);
    assert.equal(volume.getattr(a).nlink, 2);
    volume.mkdir(ROOT, a, 'b', {});
    newFile(volume, ROOT, a, 'f');
    assert.equal(volume.getattr(a).nlink, 3, 'files do not count');
    assert.throws(() => volume.mkdir(ROOT, root, 'a', {}), { code: 'exists' });
    volume.rmdir(ROOT, a, 'b');
    assert.equal(volume.getattr(a).nlink, 2);
  });
});

test('namespace: rmdir refuses non-empty directories, dot names and non-directories', async () => {
  // Goal: Linux rmdir errors: ENOTEMPTY, EINVAL for '.', ENOTEMPTY for '..', ENOTDIR.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const a = volume.mkdir(ROOT, root, 'a', {});
    newFile(volume, ROOT, a, 'f');
    assert.throws(() => volume.rmdir(ROOT, root, 'a'), { code: 'not-empty' });
    assert.throws(() => volume.rmdir(ROOT, a, '.'), { code: 'invalid' });
    assert.throws(() => volume.rmdir(ROOT, a, '..'), { code: 'not-empty' });
    assert.throws(() => volume.rmdir(ROOT, a, 'f'), { code: 'not-dir' });
    assert.throws(() => volume.rmdir(ROOT, a, 'missing'), { code: 'not-found' });
    volume.remove(ROOT, a, 'f');
    volume.rmdir(ROOT, root, 'a');
    assert.throws(() => volume.getattr(a), { code: 'stale' });
    assert.equal(volume.getattr(root).nlink, 2);
  });
});

test('namespace: remove refuses directories, and a file lives while it has links', async () => {
  // Goal: unlink drops one link; the inode goes with the last one.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    volume.mkdir(ROOT, root, 'd', {});
    assert.throws(() => volume.remove(ROOT, root, 'd'), { code: 'is-dir' });
    assert.throws(() => volume.remove(ROOT, root, 'missing'), { code: 'not-found' });
    const file = newFile(volume, ROOT, root, 'f');
    volume.link(ROOT, file, root, 'g');
    assert.equal(volume.getattr(file).nlink, 2);
    volume.remove(ROOT, root, 'f');
    assert.equal(volume.getattr(file).nlink, 1);
    assert.equal(volume.lookup(ROOT, root, 'g'), file);
    volume.remove(ROOT, root, 'g');
    assert.throws(() => volume.getattr(file), { code: 'stale' });
  });
});

test('namespace: link refuses directories and taken names', async () => {
  // Goal: no hard links to directories (NFS3ERR_ISDIR), EEXIST for a taken name.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const dir = volume.mkdir(ROOT, root, 'd', {});
    const file = newFile(volume, ROOT, root, 'f');
    newFile(volume, ROOT, root, 'taken');
    assert.throws(() => volume.link(ROOT, dir, root, 'alias'), { code: 'is-dir' });
    assert.throws(() => volume.link(ROOT, file, root, 'taken'), { code: 'exists' });
    assert.throws(() => volume.link(ROOT, file, file, 'x'), { code: 'not-dir' });
    assert.equal(volume.getattr(file).nlink, 1);
  });
});

test('namespace: rename between hard links of one file does nothing', async () => {
  // Goal: POSIX: when old and new name the same file, rename succeeds and changes nothing.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const file = newFile(volume, ROOT, root, 'a');
    volume.link(ROOT, file, root, 'b');
    volume.rename(ROOT, root, 'a', root, 'b');
    assert.equal(volume.lookup(ROOT, root, 'a'), file);
    assert.equal(volume.lookup(ROOT, root, 'b'), file);
    assert.equal(volume.getattr(file).nlink, 2);
  });
});

test('namespace: rename over an existing file replaces it', async () => {
  // Goal: atomic replace; the replaced file, at its last link, is gone.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const moved = newFile(volume, ROOT, root, 'new');
    const replaced = newFile(volume, ROOT, root, 'old');
    volume.rename(ROOT, root, 'new', root, 'old');
    assert.equal(volume.lookup(ROOT, root, 'old'), moved);
    assert.throws(() => volume.lookup(ROOT, root, 'new'), { code: 'not-found' });
    assert.throws(() => volume.getattr(replaced), { code: 'stale' });
  });
});

test('namespace: a directory replaces only an empty directory, and types must match', async () => {
  // Goal: ENOTEMPTY, ENOTDIR and EISDIR as POSIX rename has them.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const a = volume.mkdir(ROOT, root, 'a', {});
    const full = volume.mkdir(ROOT, root, 'full', {});
    newFile(volume, ROOT, full, 'x');
    const empty = volume.mkdir(ROOT, root, 'empty', {});
    newFile(volume, ROOT, root, 'file');
    assert.throws(() => volume.rename(ROOT, root, 'a', root, 'full'), { code: 'not-empty' });
    assert.throws(() => volume.rename(ROOT, root, 'a', root, 'file'), { code: 'not-dir' });
    assert.throws(() => volume.rename(ROOT, root, 'file', root, 'empty'), { code: 'is-dir' });
    assert.equal(volume.getattr(root).nlink, 5);
    volume.rename(ROOT, root, 'a', root, 'empty');
    assert.equal(volume.lookup(ROOT, root, 'empty'), a);
    assert.throws(() => volume.getattr(empty), { code: 'stale' });
    assert.equal(volume.getattr(root).nlink, 4, "the replaced directory's '..' is gone");
  });
});

test('namespace: a directory cannot move into its own subtree', async () => {
  // Goal: EINVAL for a rename that would disconnect a subtree.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const a = volume.mkdir(ROOT, root, 'a', {});
    const b = volume.mkdir(ROOT, a, 'b', {});
    const c = volume.mkdir(ROOT, b, 'c', {});
    assert.throws(() => volume.rename(ROOT, root, 'a', c, 'a'), { code: 'invalid' });
    assert.throws(() => volume.rename(ROOT, root, 'a', a, 'self'), { code: 'invalid' });
    assert.equal(volume.lookup(ROOT, root, 'a'), a);
  });
});

test("namespace: moving a directory updates its '..' and both parents' link counts", async () => {
  // Goal: the parent column and the nlink of the old and new parent follow the move.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const from = volume.mkdir(ROOT, root, 'from', {});
    const to = volume.mkdir(ROOT, root, 'to', {});
    const moved = volume.mkdir(ROOT, from, 'moved', {});
    assert.equal(volume.getattr(from).nlink, 3);
    volume.rename(ROOT, from, 'moved', to, 'here');
    assert.equal(volume.lookup(ROOT, to, 'here'), moved);
    assert.equal(volume.lookup(ROOT, moved, '..'), to);
    assert.equal(volume.getattr(from).nlink, 2);
    assert.equal(volume.getattr(to).nlink, 3);
    volume.rename(ROOT, to, 'here', to, 'renamed');
    assert.equal(volume.getattr(to).nlink, 3, 'a rename within one directory keeps the count');
  });
});

test('namespace: symbolic links keep their target, and readlink refuses other files', async () => {
  // Goal: the target round-trips byte for byte; its length is the size.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const link = volume.symlink(ROOT, root, 'l', '../some/where\u00e9', {});
    assert.equal(volume.readlink(ROOT, link), '../some/where\u00e9');
    assert.equal(volume.getattr(link).type, 'lnk');
    assert.equal(volume.getattr(link).size, 14n);
    const file = newFile(volume, ROOT, root, 'f');
    assert.throws(() => volume.readlink(ROOT, file), { code: 'invalid' });
    assert.throws(() => volume.symlink(ROOT, root, 'empty', '', {}), { code: 'invalid' });
  });
});

test('namespace: a creation refused because the name is taken leaves nothing behind', async () => {
  // Goal: the volume finds a taken name by the entry's insert failing (volume.ts,
  // #parentForNewEntry); the inode inserted before it must go with it, and the caches must not
  // keep it.
  await withTemporaryDirectory(async (parent) => {
    const directory = join(parent, 'v');
    await createVolume(directory, {});
    const volume = await openVolume(directory, { now: tickingClock() });
    const root = volume.rootFileId;
    const dir = volume.mkdir(ROOT, root, 'a', {});
    const file = newFile(volume, ROOT, root, 'f');
    const before = volume.getattr(root);
    for (const name of ['a', 'f']) {
      assert.throws(() => volume.mkdir(ROOT, root, name, {}), { code: 'exists' });
      assert.throws(() => volume.symlink(ROOT, root, name, 'target', {}), { code: 'exists' });
      assert.throws(() => volume.mknod(ROOT, root, name, 'fifo', {}, { major: 0, minor: 0 }), { code: 'exists' });
      assert.throws(() => volume.create(ROOT, root, name, { mode: 'guarded', attributes: {} }), { code: 'exists' });
      assert.throws(() => volume.link(ROOT, file, root, name), { code: 'exists' });
    }
    assert.deepEqual(volume.getattr(root), before, 'the directory is unchanged');
    assert.equal(volume.lookup(ROOT, root, 'a'), dir);
    assert.equal(volume.lookup(ROOT, root, 'f'), file);
    assert.equal(volume.getattr(file).nlink, 1);
    const next = volume.mkdir(ROOT, root, 'b', {});
    assert.equal(volume.getattr(next).type, 'dir');
    await volume.close();
    const db = new Database(join(directory, METADATA_FILE), { readonly: true });
    try {
      assert.equal(db.prepare('SELECT count(*) FROM inodes').pluck().get(), 4, 'root, a, f and b: no inode of a refused creation');
      assert.equal(db.prepare('SELECT count(*) FROM entries').pluck().get(), 3);
    } finally {
      db.close();
    }
  });
});

test('namespace: mknod makes fifos for anyone and devices only for root', async () => {
  // Goal: special files get their type and rdev; CAP_MKNOD is root's.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const fifo = volume.mknod(ALICE, shared, 'pipe', 'fifo', {}, { major: 0, minor: 0 });
    assert.equal(volume.getattr(fifo).type, 'fifo');
    assert.throws(() => volume.mknod(ALICE, shared, 'tty', 'chr', {}, { major: 4, minor: 1 }), { code: 'perm' });
    const device = volume.mknod(ROOT, shared, 'tty', 'chr', { mode: 0o620 }, { major: 4, minor: 1 });
    assert.deepEqual(volume.getattr(device).rdev, { major: 4, minor: 1 });
    assert.equal(volume.getattr(device).mode, 0o620);
    assert.throws(() => volume.mknod(ROOT, shared, 'tty', 'blk', {}, { major: 8, minor: 0 }), { code: 'exists' });
  });
});

test('namespace: namespace changes update the times of the directory', async () => {
  // Goal: create and remove change the parent's mtime and ctime.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const before = volume.getattr(root).mtime;
    newFile(volume, ROOT, root, 'f');
    const afterCreate = volume.getattr(root);
    assert.notDeepEqual(afterCreate.mtime, before);
    assert.deepEqual(afterCreate.ctime, afterCreate.mtime);
    volume.remove(ROOT, root, 'f');
    assert.notDeepEqual(volume.getattr(root).mtime, afterCreate.mtime);
  });
});

test('namespace: the link counts, times and attributes changed by mkdir, create, remove, rmdir and setattr are on disk after a reopen', async () => {
  // Goal: an inode change writes only the columns that changed (metadata-store.ts, updateInode);
  // what a reopened volume reads must be what was shown.
  await withTemporaryDirectory(async (parent) => {
    const directory = join(parent, 'volume');
    await createVolume(directory, {});
    const volume = await openVolume(directory, { now: tickingClock() });
    const root = volume.rootFileId;
    const a = volume.mkdir(ROOT, root, 'a', {});
    volume.mkdir(ROOT, a, 'b', {});
    newFile(volume, ROOT, a, 'f');
    newFile(volume, ROOT, a, 'g');
    volume.remove(ROOT, a, 'g');
    volume.mkdir(ROOT, a, 'c', {});
    volume.rmdir(ROOT, a, 'c');
    const f = volume.lookup(ROOT, a, 'f');
    volume.setattr(ROOT, f, { mode: 0o600 });
    volume.setattr(ROOT, f, { uid: 1000, gid: 1000, size: 4096n, atime: { seconds: 1_600_000_000, nanoseconds: 5 } });
    const shown = [volume.getattr(root), volume.getattr(a), volume.getattr(f)];
    assert.equal(shown[1]!.nlink, 3, "a: 2, and b's '..'");
    assert.deepEqual([shown[2]!.mode & 0o7777, shown[2]!.uid, shown[2]!.size], [0o600, 1000, 4096n]);
    await volume.close();
    const reopened = await openVolume(directory, { now: tickingClock() });
    try {
      assert.deepEqual([reopened.getattr(root), reopened.getattr(a), reopened.getattr(f)], shown);
    } finally {
      await reopened.close();
    }
  });
});
