import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALICE, BOB, CAROL, newFile, ROOT, sharedDirectory, withVolume } from './volume-fixture.js';

test('volume permissions: lookup needs search permission on the directory', async () => {
  // Goal: EACCES without x on the directory; root bypasses it.
  await withVolume((volume) => {
    const closed = volume.mkdir(ROOT, volume.rootFileId, 'closed', { mode: 0o700 });
    newFile(volume, ROOT, closed, 'f');
    assert.throws(() => volume.lookup(ALICE, closed, 'f'), { code: 'access' });
    assert.equal(typeof volume.lookup(ROOT, closed, 'f'), 'bigint');
  });
});

test('volume permissions: creating needs write on the directory, but a taken name is exists first', async () => {
  // Goal: EACCES for a new name in a read-only directory; EEXIST when the name exists (Linux order).
  await withVolume((volume) => {
    const readOnly = volume.mkdir(ROOT, volume.rootFileId, 'ro', { mode: 0o755 });
    newFile(volume, ROOT, readOnly, 'taken');
    assert.throws(() => newFile(volume, ALICE, readOnly, 'new'), { code: 'access' });
    assert.throws(() => volume.mkdir(ALICE, readOnly, 'new', {}), { code: 'access' });
    assert.throws(() => volume.mkdir(ALICE, readOnly, 'taken', {}), { code: 'exists' });
    assert.throws(() => volume.symlink(ALICE, readOnly, 'taken', 'x', {}), { code: 'exists' });
    assert.throws(() => volume.mknod(ALICE, readOnly, 'taken', 'fifo', {}, { major: 0, minor: 0 }), { code: 'exists' });
    const own = newFile(volume, ALICE, volume.mkdir(ROOT, volume.rootFileId, 'alice', { mode: 0o777 }), 'own');
    assert.throws(() => volume.link(ALICE, own, readOnly, 'taken'), { code: 'exists' });
    // CREATE UNCHECKED of a taken name answers with that file, which needs no write on the directory.
    assert.equal(newFile(volume, ALICE, readOnly, 'taken'), volume.lookup(ALICE, readOnly, 'taken'));
    // Other refusals yield to a taken name too: EEXIST before EPERM (a device by a user).
    const shared = sharedDirectory(volume);
    newFile(volume, ALICE, shared, 'dev');
    assert.throws(() => volume.mknod(ALICE, shared, 'dev', 'chr', {}, { major: 4, minor: 1 }), { code: 'exists' });
    assert.throws(() => volume.mknod(ALICE, shared, 'tty', 'chr', {}, { major: 4, minor: 1 }), { code: 'perm' });
    assert.throws(() => volume.remove(ALICE, readOnly, 'taken'), { code: 'access' });
    assert.throws(() => volume.rename(ALICE, readOnly, 'taken', readOnly, 'moved'), { code: 'access' });
  });
});

test('volume permissions: in a sticky directory only the owners or root may remove or rename', async () => {
  // Goal: EPERM (not EACCES) for another user's file in a 1777 directory.
  await withVolume((volume) => {
    const tmp = sharedDirectory(volume, 'tmp', 0o1777);
    newFile(volume, ALICE, tmp, 'alice-1');
    newFile(volume, ALICE, tmp, 'alice-2');
    newFile(volume, ALICE, tmp, 'alice-3');
    newFile(volume, BOB, tmp, 'bob');
    assert.throws(() => volume.remove(BOB, tmp, 'alice-1'), { code: 'perm' });
    assert.throws(() => volume.rename(BOB, tmp, 'alice-1', tmp, 'mine'), { code: 'perm' });
    assert.throws(() => volume.rename(BOB, tmp, 'bob', tmp, 'alice-1'), { code: 'perm' }, 'replacing counts too');
    volume.remove(ALICE, tmp, 'alice-1');
    volume.remove(ROOT, tmp, 'alice-2');
    volume.rename(BOB, tmp, 'bob', tmp, 'bob-renamed');
    assert.throws(() => volume.lookup(ROOT, tmp, 'alice-1'), { code: 'not-found' });
    const owned = volume.mkdir(BOB, tmp, 'bobs', { mode: 0o1777 });
    newFile(volume, ALICE, owned, 'alice-in-bobs');
    volume.remove(BOB, owned, 'alice-in-bobs');
  });
});

test('volume permissions: chmod is for the owner or root, and chown for root only (EPERM)', async () => {
  // Goal: EPERM, not EACCES, for attribute changes reserved to the owner or root.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, ALICE, shared, 'f');
    assert.throws(() => volume.setattr(BOB, file, { mode: 0o777 }), { code: 'perm' });
    assert.throws(() => volume.setattr(ALICE, file, { uid: BOB.uid }), { code: 'perm' });
    assert.equal(volume.setattr(ALICE, file, { mode: 0o600 }).mode, 0o600);
    assert.equal(volume.setattr(ALICE, file, { uid: ALICE.uid }).uid, ALICE.uid, 'chown to oneself is allowed');
    assert.equal(volume.setattr(ROOT, file, { uid: BOB.uid }).uid, BOB.uid);
  });
});

test('volume permissions: chgrp by the owner only to one of its groups', async () => {
  // Goal: supplementary groups count; other groups are EPERM.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, CAROL, shared, 'f');
    assert.equal(volume.getattr(file).gid, CAROL.gid);
    assert.equal(volume.setattr(CAROL, file, { gid: 1000 }).gid, 1000);
    assert.throws(() => volume.setattr(CAROL, file, { gid: 4242 }), { code: 'perm' });
    assert.throws(() => volume.setattr(ALICE, file, { gid: 1000 }), { code: 'perm' }, 'not the owner');
  });
});

test('volume permissions: a non-member setting setgid loses it, and chown clears setuid', async () => {
  // Goal: Linux setattr_prepare drops S_ISGID for a foreign group; chown revokes set-id bits.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, ALICE, shared, 'f');
    volume.setattr(ROOT, file, { gid: 5000 });
    assert.equal(volume.setattr(ALICE, file, { mode: 0o2755 }).mode, 0o755);
    volume.setattr(ROOT, file, { gid: ALICE.gid });
    assert.equal(volume.setattr(ALICE, file, { mode: 0o6755 }).mode, 0o6755);
    assert.equal(volume.setattr(ALICE, file, { gid: ALICE.gid }).mode, 0o755);
  });
});

test('volume permissions: a setgid directory hands its group to new files and setgid to new directories', async () => {
  // Goal: BSD group semantics under setgid (inode_init_owner).
  await withVolume((volume) => {
    const team = volume.mkdir(ROOT, volume.rootFileId, 'team', { mode: 0o2777, gid: 500 });
    assert.equal(volume.getattr(team).gid, 500);
    const file = newFile(volume, ALICE, team, 'f');
    assert.equal(volume.getattr(file).gid, 500);
    assert.equal(volume.getattr(file).uid, ALICE.uid);
    const sub = volume.mkdir(ALICE, team, 'sub', { mode: 0o755 });
    assert.equal(volume.getattr(sub).gid, 500);
    assert.equal(volume.getattr(sub).mode, 0o2755);
    const plain = volume.mkdir(ALICE, sharedDirectory(volume), 'plain', {});
    assert.equal(volume.getattr(plain).gid, ALICE.gid);
    assert.equal(volume.getattr(plain).mode, 0o755);
  });
});

test('volume permissions: a write by a non-root caller clears setuid; root keeps it', async () => {
  // Goal: file_remove_privs on WRITE.
  await withVolume(async (volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, ALICE, shared, 'f', 0o4755);
    await volume.write(ROOT, file, 0n, Buffer.from('root'), 'unstable');
    assert.equal(volume.getattr(file).mode, 0o4755);
    await volume.write(ALICE, file, 0n, Buffer.from('alice'), 'unstable');
    assert.equal(volume.getattr(file).mode, 0o755);
  });
});

test('volume permissions: the owner may write and read its 0444 and 0200 files; others may not', async () => {
  // Goal: knfsd's owner override (open(O_CREAT, 0444) then write) without opening files to others.
  await withVolume(async (volume) => {
    const shared = sharedDirectory(volume);
    const readOnly = newFile(volume, ALICE, shared, 'ro', 0o444);
    assert.equal(await volume.write(ALICE, readOnly, 0n, Buffer.from('mine'), 'file-sync'), 'file-sync');
    await assert.rejects(volume.write(BOB, readOnly, 0n, Buffer.from('x'), 'unstable'), { code: 'access' });
    const writeOnly = newFile(volume, ALICE, shared, 'wo', 0o200);
    await volume.write(ALICE, writeOnly, 0n, Buffer.from('secret'), 'unstable');
    assert.equal((await volume.read(ALICE, writeOnly, 0n, 10)).data.toString(), 'secret');
    await assert.rejects(volume.read(BOB, writeOnly, 0n, 10), { code: 'access' });
    const open = newFile(volume, ALICE, shared, 'open', 0o646);
    await volume.write(BOB, open, 0n, Buffer.from('bob'), 'unstable');
    assert.equal((await volume.read(ROOT, writeOnly, 0n, 10)).data.toString(), 'secret', 'root reads anything');
  });
});

test('volume permissions: group members write through a supplementary group', async () => {
  // Goal: the group class applies to supplementary gids.
  await withVolume(async (volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, ALICE, shared, 'f', 0o660);
    await volume.write(CAROL, file, 0n, Buffer.from('carol'), 'unstable');
    await assert.rejects(volume.write(BOB, file, 0n, Buffer.from('bob'), 'unstable'), { code: 'access' });
  });
});

test('volume permissions: size and times: EACCES without write permission, EPERM for explicit times', async () => {
  // Goal: truncate and touch-now need write permission (or ownership); explicit times need ownership.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const file = newFile(volume, ALICE, shared, 'f', 0o644);
    const writable = newFile(volume, ALICE, shared, 'w', 0o666);
    const when = { seconds: 1_000_000, nanoseconds: 5 };
    assert.throws(() => volume.setattr(BOB, file, { size: 0n }), { code: 'access' });
    assert.throws(() => volume.setattr(BOB, file, { mtime: 'now' }), { code: 'access' });
    assert.throws(() => volume.setattr(BOB, writable, { mtime: when }), { code: 'perm' });
    assert.equal(volume.setattr(BOB, writable, { size: 3n }).size, 3n);
    volume.setattr(BOB, writable, { atime: 'now', mtime: 'now' });
    assert.deepEqual(volume.setattr(ALICE, file, { mtime: when }).mtime, when);
    assert.deepEqual(volume.setattr(ROOT, file, { atime: when }).atime, when);
  });
});

test('volume permissions: every setattr updates ctime, and a size change updates mtime', async () => {
  // Goal: POSIX time rules of SETATTR.
  await withVolume((volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const before = volume.getattr(file);
    const chmodded = volume.setattr(ROOT, file, { mode: 0o600 });
    assert.notDeepEqual(chmodded.ctime, before.ctime);
    assert.deepEqual(chmodded.mtime, before.mtime);
    const truncated = volume.setattr(ROOT, file, { size: 100n });
    assert.notDeepEqual(truncated.mtime, before.mtime);
    assert.throws(() => volume.setattr(ROOT, volume.rootFileId, { size: 0n }), { code: 'is-dir' });
  });
});

test('volume permissions: readdir needs read permission on the directory', async () => {
  // Goal: EACCES without r, even with x.
  await withVolume((volume) => {
    const hidden = volume.mkdir(ROOT, volume.rootFileId, 'hidden', { mode: 0o711 });
    newFile(volume, ROOT, hidden, 'f');
    assert.throws(() => volume.readdir(ALICE, hidden, 0n, 10, false), { code: 'access' });
    assert.equal(volume.readdir(ROOT, hidden, 0n, 10, false).entries.length, 1);
  });
});

test("volume permissions: moving a directory to another parent needs write on it (its '..')", async () => {
  // Goal: Linux vfs_rename rule for cross-directory moves of directories.
  await withVolume((volume) => {
    const shared = sharedDirectory(volume);
    const other = sharedDirectory(volume, 'other');
    volume.mkdir(ROOT, shared, 'roots', { mode: 0o755 });
    assert.throws(() => volume.rename(ALICE, shared, 'roots', other, 'roots'), { code: 'access' });
    volume.rename(ALICE, shared, 'roots', shared, 'renamed-in-place');
  });
});
