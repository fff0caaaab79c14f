// Integration: each of the 22 NFS version 3 procedures (RFC 1813 section 3.3) called over the
// wire against a real `tandem serve` on loopback. Arguments are encoded and results decoded by
// json-pack, a codec nobody here wrote; every test checks the result arms the RFC defines for
// NFS3_OK (post-op attributes, wcc_data before and after, handles) and what they must say, plus
// the errors a procedure owes for its own edge cases (NOT_SYNC, BADTYPE, NOTEMPTY, TOOSMALL).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { statfsSync } from 'node:fs';
import type { Nfsv3Fattr, Nfsv3PostOpAttr, Nfsv3Time, Nfsv3WccAttr, Nfsv3WccData } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { serveFreshVolume, type ServedVolume } from '../support/served-volume.js';
import { FILE_SYNC, handleOf, NFS_PROGRAM, NFS_VERSION, NfsClient, ROOT, successBody, UNSTABLE } from '../support/rpc-client.js';
import {
  ACCESS3_DELETE,
  ACCESS3_EXECUTE,
  ACCESS3_EXTEND,
  ACCESS3_LOOKUP,
  ACCESS3_MODIFY,
  ACCESS3_READ,
  FSF3_CANSETTIME,
  FSF3_HOMOGENEOUS,
  FSF3_LINK,
  FSF3_SYMLINK,
  ftype3,
  nfsstat3,
  stable_how,
} from '../../src/nfs3/constants.js';

const ALL_ACCESS = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE | ACCESS3_EXECUTE;
const PERMISSION_BITS = 0o7777;
const FILE_BYTES_MAX = 2n ** 63n - 1n;
const MiB = 1024 * 1024;
/** How far FSSTAT's free and available bytes may drift from statfs taken moments apart. */
const FREE_BYTES_TOLERANCE = 512n * BigInt(MiB);
/** How far FSSTAT's free file slots may drift from statfs taken moments apart. */
const FREE_FILES_TOLERANCE = 100_000n;
const LISTED_NAMES = 300;

let served: ServedVolume;
let client: NfsClient;
let root: Buffer;
let volumeDir: string;

before(async () => {
  served = await serveFreshVolume('procedures');
  ({ client, root, directory: volumeDir } = served);
});

after(() => served?.stop());

// ---------------------------------------------------------------------------------------------
// Reading results.

/** The resok arm of a result, asserting NFS3_OK. */
function ok<T>(result: { readonly status: number; readonly resok?: T | undefined }, what: string): T {
  assert.equal(result.status, nfsstat3.NFS3_OK, `${what}: status ${result.status}`);
  assert.ok(result.resok !== undefined, `${what}: NFS3_OK carries a resok arm`);
  return result.resok;
}

/** The attributes of a post_op_attr, asserting they follow. */
function attributesOf(post: Nfsv3PostOpAttr, what: string): Nfsv3Fattr {
  assert.equal(post.attributesFollow, true, `${what}: attributes follow`);
  assert.ok(post.attributes !== undefined, `${what}: attributes decoded`);
  return post.attributes;
}

/** Both halves of a wcc_data, asserting each is present. */
function wccOf(data: Nfsv3WccData, what: string): { before: Nfsv3WccAttr; after: Nfsv3Fattr } {
  assert.equal(data.before.attributesFollow, true, `${what}: pre_op_attr follows`);
  assert.ok(data.before.attributes !== undefined, `${what}: pre_op_attr decoded`);
  return { before: data.before.attributes, after: attributesOf(data.after, `${what} (post_op_attr)`) };
}

function nanosecondsOf(time: Nfsv3Time): bigint {
  return BigInt(time.seconds) * 1_000_000_000n + BigInt(time.nseconds);
}

/** A directory's wcc_data after an operation that changed it: both halves, mtime and ctime moved on. */
function assertDirectoryChanged(data: Nfsv3WccData, what: string): { before: Nfsv3WccAttr; after: Nfsv3Fattr } {
  const wcc = wccOf(data, what);
  assert.ok(nanosecondsOf(wcc.after.mtime) > nanosecondsOf(wcc.before.mtime), `${what}: the directory's mtime changes`);
  assert.ok(nanosecondsOf(wcc.after.ctime) >= nanosecondsOf(wcc.before.ctime), `${what}: the directory's ctime does not go back`);
  assert.equal(wcc.after.type, ftype3.NF3DIR, `${what}: after-attributes are the directory's`);
  return wcc;
}

/** The result arms CREATE, MKDIR, SYMLINK and MKNOD share (RFC 1813 3.3.8-3.3.11), checked. */
async function assertCreated(
  resok: { readonly obj: Parameters<typeof handleOf>[0]; readonly objAttributes: Nfsv3PostOpAttr; readonly dirWcc: Nfsv3WccData },
  dir: Buffer,
  name: string,
  type: number,
  what: string,
): Promise<{ handle: Buffer; attributes: Nfsv3Fattr }> {
  const handle = handleOf(resok.obj);
  assert.ok(handle !== undefined, `${what}: post_op_fh3 carries a handle`);
  const attributes = attributesOf(resok.objAttributes, what);
  assert.equal(attributes.type, type, `${what}: the new object's type`);
  assertDirectoryChanged(resok.dirWcc, `${what} dir_wcc`);
  const looked = ok(await client.lookup(dir, name), `LOOKUP after ${what}`);
  assert.deepEqual(Buffer.from(looked.object.data), handle, `${what}: LOOKUP finds the same handle`);
  const fetched = ok(await client.getattr(handle), `GETATTR after ${what}`).objAttributes;
  assert.equal(fetched.fileid, attributes.fileid, `${what}: GETATTR of the handle has the same fileid`);
  return { handle, attributes };
}

/** A fresh directory under the root for one test. */
function workDirectory(name: string): Promise<Buffer> {
  return client.makeDirectory(root, name);
}

// ---------------------------------------------------------------------------------------------

test('procedures: NULL answers with an empty result', async () => {
  // Goal: RFC 1813 3.3.0: NULL takes and returns nothing; the client rejects any result bytes.
  await client.null();
});

test('procedures: GETATTR of the root is a directory with a fileid, two or more links and the volume fsid', async () => {
  // Goal: fattr3 of the export root says what it is, and its fsid is the one every object shares.
  const attributes = ok(await client.getattr(root), 'GETATTR root').objAttributes;
  assert.equal(attributes.type, ftype3.NF3DIR);
  assert.equal(typeof attributes.fileid, 'bigint');
  assert.ok(attributes.fileid > 0n, 'a fileid');
  assert.ok(attributes.nlink >= 2, `a directory has '.' and its name: nlink ${attributes.nlink}`);
  const dotdot = ok(await client.lookup(root, '..'), "LOOKUP '..' of the root");
  assert.equal(attributesOf(dotdot.objAttributes, "'..' of the root").fileid, attributes.fileid, "'..' of the root is the root");
  const file = await client.createFile(root, 'fsid-probe');
  const fileAttributes = ok(await client.getattr(file), 'GETATTR file').objAttributes;
  assert.equal(fileAttributes.fsid, attributes.fsid, 'a file in the volume has the root fsid');
  assert.notEqual(fileAttributes.fileid, attributes.fileid);
  const fsinfo = ok(await client.fsinfo(root), 'FSINFO');
  assert.equal(attributesOf(fsinfo.objAttributes, 'FSINFO').fsid, attributes.fsid, 'FSINFO attributes have the root fsid');
});

test('procedures: SETATTR mode 0600 shows in GETATTR, with wcc_data before and after, and a wrong ctime guard is NOT_SYNC', async () => {
  // Goal: RFC 1813 3.3.2: SETATTR changes the mode, reports wcc_data, and honours the ctime guard.
  const dir = await workDirectory('setattr');
  const file = await client.createFile(dir, 'file', { mode: 0o644 });
  const result = ok(await client.setattr(file, { mode: 0o600 }), 'SETATTR mode');
  const wcc = wccOf(result.objWcc, 'SETATTR obj_wcc');
  assert.equal(wcc.after.mode & PERMISSION_BITS, 0o600, 'after-attributes show the new mode');
  assert.ok(nanosecondsOf(wcc.after.ctime) >= nanosecondsOf(wcc.before.ctime), 'ctime does not go back');
  const attributes = ok(await client.getattr(file), 'GETATTR').objAttributes;
  assert.equal(attributes.mode & PERMISSION_BITS, 0o600);
  assert.equal(attributes.type, ftype3.NF3REG);

  const wrong = { seconds: attributes.ctime.seconds - 1, nseconds: attributes.ctime.nseconds };
  const guarded = await client.setattrGuarded(file, { mode: 0o640 }, wrong);
  assert.equal(guarded.status, nfsstat3.NFS3ERR_NOT_SYNC, 'a guard that is not the ctime');
  assert.equal(ok(await client.getattr(file), 'GETATTR').objAttributes.mode & PERMISSION_BITS, 0o600, 'the mode is unchanged');
  const matching = ok(await client.setattrGuarded(file, { mode: 0o640 }, attributes.ctime), 'SETATTR with the right guard');
  assert.equal(wccOf(matching.objWcc, 'guarded SETATTR').after.mode & PERMISSION_BITS, 0o640, 'the right guard lets it through');
});

test('procedures: LOOKUP returns the handle CREATE returned, with object and directory attributes', async () => {
  // Goal: RFC 1813 3.3.3: one object, one handle; both post_op_attrs present.
  const dir = await workDirectory('lookup');
  const created = ok(await client.create(dir, 'file'), 'CREATE');
  const handle = handleOf(created.obj);
  assert.ok(handle !== undefined);
  const looked = ok(await client.lookup(dir, 'file'), 'LOOKUP');
  assert.deepEqual(Buffer.from(looked.object.data), handle);
  const objAttributes = attributesOf(looked.objAttributes, 'LOOKUP obj_attributes');
  assert.equal(objAttributes.fileid, attributesOf(created.objAttributes, 'CREATE').fileid);
  assert.equal(objAttributes.type, ftype3.NF3REG);
  const dirAttributes = attributesOf(looked.dirAttributes, 'LOOKUP dir_attributes');
  assert.equal(dirAttributes.fileid, ok(await client.getattr(dir), 'GETATTR dir').objAttributes.fileid);
  assert.equal(dirAttributes.type, ftype3.NF3DIR);
  assert.equal((await client.lookup(dir, 'missing')).status, nfsstat3.NFS3ERR_NOENT);
});

test('procedures: ACCESS as root grants READ, MODIFY and EXTEND but not EXECUTE on a 0644 file, and LOOKUP and DELETE on a directory', async () => {
  // Goal: RFC 1813 3.3.4: a truthful subset of the asked-for bits, by object type.
  const dir = await workDirectory('access');
  const file = await client.createFile(dir, 'file', { mode: 0o644 });
  const onFile = ok(await client.access(file, ALL_ACCESS), 'ACCESS file');
  attributesOf(onFile.objAttributes, 'ACCESS file obj_attributes');
  const fileRights = ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND;
  assert.equal(onFile.access & fileRights, fileRights, `granted ${onFile.access.toString(16)}`);
  assert.equal(onFile.access & ACCESS3_EXECUTE, 0, 'no x bit: no EXECUTE, even for root');
  assert.equal(onFile.access & ~ALL_ACCESS, 0, 'only bits that were asked for');
  assert.equal(ok(await client.access(file, ACCESS3_READ), 'ACCESS READ').access, ACCESS3_READ, 'only what was asked');

  const onDir = ok(await client.access(dir, ALL_ACCESS), 'ACCESS dir');
  attributesOf(onDir.objAttributes, 'ACCESS dir obj_attributes');
  assert.equal(onDir.access & (ACCESS3_LOOKUP | ACCESS3_DELETE), ACCESS3_LOOKUP | ACCESS3_DELETE, `granted ${onDir.access.toString(16)}`);
});

test('procedures: READLINK returns the SYMLINK target exactly, non-ASCII bytes included', async () => {
  // Goal: RFC 1813 3.3.5: nfspath3 comes back byte for byte as SYMLINK stored it.
  const dir = await workDirectory('readlink');
  const targets = ['plain/target', '../up/and/over', 'ünïcødé/目标/✓ ☃', `${'long-'.repeat(100)}end`];
  for (const [index, target] of targets.entries()) {
    const made = ok(await client.symlink(dir, `link-${index}`, target), `SYMLINK ${index}`);
    const handle = handleOf(made.obj);
    assert.ok(handle !== undefined);
    const read = ok(await client.readlink(handle), `READLINK ${index}`);
    assert.equal(read.data, target);
    assert.deepEqual(Buffer.from(read.data, 'utf8'), Buffer.from(target, 'utf8'));
    assert.equal(attributesOf(read.symlinkAttributes, 'READLINK symlink_attributes').type, ftype3.NF3LNK);
  }
});

test('procedures: READ returns the data written, with eof true only at the end', async () => {
  // Goal: RFC 1813 3.3.6: count, data and eof agree with the file's size.
  const dir = await workDirectory('read');
  const file = await client.createFile(dir, 'file');
  const data = randomBytes(10_000);
  ok(await client.write(file, 0n, data, FILE_SYNC), 'WRITE');
  const whole = ok(await client.read(file, 0n, data.length), 'READ whole');
  assert.ok(Buffer.from(whole.data).equals(data));
  assert.equal(whole.count, data.length);
  assert.equal(whole.eof, true, 'the read reaches the end');
  assert.equal(attributesOf(whole.fileAttributes, 'READ file_attributes').size, BigInt(data.length));
  const head = ok(await client.read(file, 0n, 4096), 'READ head');
  assert.ok(Buffer.from(head.data).equals(data.subarray(0, 4096)));
  assert.equal(head.eof, false, 'more follows');
  const tail = ok(await client.read(file, 8192n, 4096), 'READ tail');
  assert.ok(Buffer.from(tail.data).equals(data.subarray(8192)), 'a short read at the end');
  assert.equal(tail.count, data.length - 8192);
  assert.equal(tail.eof, true);
  const beyond = ok(await client.read(file, BigInt(data.length) + 10n, 100), 'READ beyond');
  assert.equal(beyond.count, 0);
  assert.equal(beyond.eof, true);
});

test('procedures: 1 MiB WRITEs and READs in flight together each carry their own bytes, and a hole reads as zeros', async () => {
  // Goal: the server reuses the buffers of large calls and READ replies (platform/buffer-pool.ts):
  // none may be reused while a reply still refers to it, and reused memory never leaks into a
  // reply (a hole, read through a buffer that held other data, is zeros).
  const dir = await workDirectory('bulk');
  const file = await client.createFile(dir, 'file');
  const blocks = Array.from({ length: 8 }, () => randomBytes(MiB));
  const holeAt = BigInt(blocks.length * MiB);
  for (let round = 0; round < 2; round++) {
    const written = await Promise.all(blocks.map((block, index) => client.write(file, BigInt(index * MiB), block, UNSTABLE)));
    written.forEach((result, index) => assert.equal(ok(result, `WRITE ${index}`).count, MiB));
    ok(await client.setattr(file, { size: holeAt + BigInt(MiB) }), 'SETATTR size: a 1 MiB hole at the end');
    const reads = await Promise.all([...blocks.keys(), blocks.length].map((index) => client.read(file, BigInt(index * MiB), MiB)));
    reads.slice(0, blocks.length).forEach((result, index) => assert.ok(Buffer.from(ok(result, `READ ${index}`).data).equals(blocks[index]!), `round ${round}: block ${index} reads back`));
    const hole = ok(reads[blocks.length]!, 'READ of the hole');
    assert.equal(hole.count, MiB);
    assert.ok(Buffer.from(hole.data).equals(Buffer.alloc(MiB)), `round ${round}: the hole reads as zeros`);
    blocks.reverse();
  }
});

test('procedures: WRITE UNSTABLE and FILE_SYNC, then COMMIT, all carry the same 8-byte verifier', async () => {
  // Goal: RFC 1813 3.3.7 and 3.3.21: committed is at least what was asked, and the verifier is one.
  const dir = await workDirectory('write');
  const file = await client.createFile(dir, 'file');
  const first = randomBytes(64 * 1024);
  const unstable = ok(await client.write(file, 0n, first, UNSTABLE), 'WRITE UNSTABLE');
  assert.equal(unstable.count, first.length);
  assert.ok(unstable.committed >= stable_how.UNSTABLE && unstable.committed <= stable_how.FILE_SYNC, `committed ${unstable.committed}`);
  assert.equal(unstable.verf.length, 8, 'writeverf3 is 8 bytes');
  const unstableWcc = wccOf(unstable.fileWcc, 'WRITE UNSTABLE file_wcc');
  assert.equal(unstableWcc.before.size, 0n);
  assert.equal(unstableWcc.after.size, BigInt(first.length));

  const second = randomBytes(1000);
  const synced = ok(await client.write(file, BigInt(first.length), second, FILE_SYNC), 'WRITE FILE_SYNC');
  assert.equal(synced.committed, stable_how.FILE_SYNC);
  assert.equal(synced.count, second.length);
  assert.deepEqual(Buffer.from(synced.verf), Buffer.from(unstable.verf), 'one verifier');
  assert.equal(wccOf(synced.fileWcc, 'WRITE FILE_SYNC file_wcc').after.size, BigInt(first.length + second.length));

  const committed = ok(await client.commit(file), 'COMMIT');
  assert.deepEqual(Buffer.from(committed.verf), Buffer.from(unstable.verf), 'COMMIT: the same verifier');
  const commitWcc = wccOf(committed.fileWcc, 'COMMIT file_wcc');
  assert.equal(commitWcc.after.size, BigInt(first.length + second.length));
  const read = ok(await client.read(file, 0n, first.length + second.length), 'READ');
  assert.ok(Buffer.from(read.data).equals(Buffer.concat([first, second])));
});

test('procedures: CREATE UNCHECKED, GUARDED and EXCLUSIVE each return a handle, attributes and dir_wcc that moves the mtime', async () => {
  // Goal: RFC 1813 3.3.8: the three create modes and what each does with an existing name.
  const dir = await workDirectory('create');
  const unchecked = ok(await client.create(dir, 'unchecked', { mode: 'unchecked', attributes: { mode: 0o640 } }), 'CREATE UNCHECKED');
  const uncheckedMade = await assertCreated(unchecked, dir, 'unchecked', ftype3.NF3REG, 'CREATE UNCHECKED');
  assert.equal(uncheckedMade.attributes.mode & PERMISSION_BITS, 0o640, 'the mode asked for');
  const again = ok(await client.create(dir, 'unchecked', { mode: 'unchecked' }), 'CREATE UNCHECKED of an existing name');
  assert.deepEqual(handleOf(again.obj), uncheckedMade.handle, 'UNCHECKED over an existing file is that file');

  const guarded = ok(await client.create(dir, 'guarded', { mode: 'guarded', attributes: { mode: 0o600 } }), 'CREATE GUARDED');
  const guardedMade = await assertCreated(guarded, dir, 'guarded', ftype3.NF3REG, 'CREATE GUARDED');
  assert.equal(guardedMade.attributes.mode & PERMISSION_BITS, 0o600);
  assert.equal(guardedMade.attributes.size, 0n);
  const clash = await client.create(dir, 'guarded', { mode: 'guarded' });
  assert.equal(clash.status, nfsstat3.NFS3ERR_EXIST, 'GUARDED over an existing name');
  assert.ok(clash.resfail !== undefined, 'a failed CREATE carries a resfail arm');
  attributesOf(clash.resfail.dirWcc.after, 'failed CREATE dir_wcc after');

  const verifier = randomBytes(8);
  const exclusive = ok(await client.create(dir, 'exclusive', { mode: 'exclusive', verifier }), 'CREATE EXCLUSIVE');
  const exclusiveMade = await assertCreated(exclusive, dir, 'exclusive', ftype3.NF3REG, 'CREATE EXCLUSIVE');
  const retransmitted = ok(await client.create(dir, 'exclusive', { mode: 'exclusive', verifier }), 'CREATE EXCLUSIVE again');
  assert.deepEqual(handleOf(retransmitted.obj), exclusiveMade.handle, 'the same verifier: the same file');
  const other = await client.create(dir, 'exclusive', { mode: 'exclusive', verifier: randomBytes(8) });
  assert.equal(other.status, nfsstat3.NFS3ERR_EXIST, 'another verifier: EXIST');
});

test('procedures: MKDIR returns a handle, directory attributes and dir_wcc that moves the mtime', async () => {
  // Goal: RFC 1813 3.3.9: a new directory, empty but for '.' and '..'.
  const dir = await workDirectory('mkdir');
  const parentBefore = ok(await client.getattr(dir), 'GETATTR parent').objAttributes;
  const made = ok(await client.mkdir(dir, 'child', { mode: 0o750 }), 'MKDIR');
  const { handle, attributes } = await assertCreated(made, dir, 'child', ftype3.NF3DIR, 'MKDIR');
  assert.equal(attributes.mode & PERMISSION_BITS, 0o750);
  assert.equal(attributes.nlink, 2, "a new directory: its name and '.'");
  const parentAfter = ok(await client.getattr(dir), 'GETATTR parent').objAttributes;
  assert.equal(parentAfter.nlink, parentBefore.nlink + 1, "the child's '..' links the parent");
  assert.deepEqual((await client.list(handle)).map((entry) => entry.name), ['.', '..']);
  assert.equal((await client.mkdir(dir, 'child')).status, nfsstat3.NFS3ERR_EXIST);
});

test('procedures: SYMLINK returns a handle, symlink attributes and dir_wcc that moves the mtime', async () => {
  // Goal: RFC 1813 3.3.10: a new symbolic link in the directory.
  const dir = await workDirectory('symlink');
  const made = ok(await client.symlink(dir, 'link', 'some/where'), 'SYMLINK');
  await assertCreated(made, dir, 'link', ftype3.NF3LNK, 'SYMLINK');
  assert.equal((await client.symlink(dir, 'link', 'else')).status, nfsstat3.NFS3ERR_EXIST);
});

test('procedures: MKNOD makes a FIFO, a socket and a character device whose rdev GETATTR shows, and answers BADTYPE for a regular file', async () => {
  // Goal: RFC 1813 3.3.11: special files with their device numbers; REG is not MKNOD's to make.
  const dir = await workDirectory('mknod');
  const fifo = ok(await client.mknod(dir, 'fifo', ftype3.NF3FIFO, { attributes: { mode: 0o640 } }), 'MKNOD FIFO');
  const fifoMade = await assertCreated(fifo, dir, 'fifo', ftype3.NF3FIFO, 'MKNOD FIFO');
  assert.equal(fifoMade.attributes.mode & PERMISSION_BITS, 0o640);
  const socket = ok(await client.mknod(dir, 'socket', ftype3.NF3SOCK, { attributes: { mode: 0o600 } }), 'MKNOD SOCK');
  await assertCreated(socket, dir, 'socket', ftype3.NF3SOCK, 'MKNOD SOCK');

  const rdev = { major: 136, minor: 7 };
  const device = ok(await client.mknod(dir, 'tty', ftype3.NF3CHR, { attributes: { mode: 0o620 }, rdev }), 'MKNOD CHR');
  const deviceMade = await assertCreated(device, dir, 'tty', ftype3.NF3CHR, 'MKNOD CHR');
  assert.deepEqual({ major: deviceMade.attributes.rdev.specdata1, minor: deviceMade.attributes.rdev.specdata2 }, rdev);
  const fetched = ok(await client.getattr(deviceMade.handle), 'GETATTR CHR').objAttributes;
  assert.equal(fetched.type, ftype3.NF3CHR);
  assert.deepEqual({ major: fetched.rdev.specdata1, minor: fetched.rdev.specdata2 }, rdev, 'GETATTR shows major and minor');

  const regular = await client.mknod(dir, 'regular', ftype3.NF3REG);
  assert.equal(regular.status, nfsstat3.NFS3ERR_BADTYPE);
  assert.equal((await client.lookup(dir, 'regular')).status, nfsstat3.NFS3ERR_NOENT, 'nothing was made');
});

test('procedures: REMOVE takes the name away, with dir_wcc, and the removed file handle becomes STALE', async () => {
  // Goal: RFC 1813 3.3.12: the last link gone, the object is gone.
  const dir = await workDirectory('remove');
  const file = await client.createFile(dir, 'file');
  const removed = ok(await client.remove(dir, 'file'), 'REMOVE');
  assertDirectoryChanged(removed.dirWcc, 'REMOVE dir_wcc');
  assert.equal((await client.lookup(dir, 'file')).status, nfsstat3.NFS3ERR_NOENT);
  assert.equal((await client.getattr(file)).status, nfsstat3.NFS3ERR_STALE);
  assert.equal((await client.remove(dir, 'file')).status, nfsstat3.NFS3ERR_NOENT);
});

test('procedures: RMDIR removes an empty directory with dir_wcc and answers NOTEMPTY for one with entries', async () => {
  // Goal: RFC 1813 3.3.13: only empty directories go.
  const dir = await workDirectory('rmdir');
  const empty = await client.makeDirectory(dir, 'empty');
  const removed = ok(await client.rmdir(dir, 'empty'), 'RMDIR');
  assertDirectoryChanged(removed.dirWcc, 'RMDIR dir_wcc');
  assert.equal((await client.lookup(dir, 'empty')).status, nfsstat3.NFS3ERR_NOENT);
  assert.equal((await client.getattr(empty)).status, nfsstat3.NFS3ERR_STALE);

  const full = await client.makeDirectory(dir, 'full');
  await client.createFile(full, 'inside');
  const refused = await client.rmdir(dir, 'full');
  assert.equal(refused.status, nfsstat3.NFS3ERR_NOTEMPTY);
  assert.equal(ok(await client.getattr(full), 'GETATTR full').objAttributes.type, ftype3.NF3DIR, 'the directory stays');
  assert.equal((await client.lookup(full, 'inside')).status, nfsstat3.NFS3_OK, 'and so does its entry');
});

test('procedures: RENAME over an existing file makes the old target handle stale', async () => {
  // Goal: RFC 1813 3.3.14: the target is replaced atomically; both directories report wcc_data.
  const from = await workDirectory('rename-from');
  const to = await workDirectory('rename-to');
  const source = await client.createFile(from, 'source');
  ok(await client.write(source, 0n, Buffer.from('source data'), FILE_SYNC), 'WRITE source');
  const target = await client.createFile(to, 'target');
  const renamed = ok(await client.rename(from, 'source', to, 'target'), 'RENAME');
  assertDirectoryChanged(renamed.fromDirWcc, 'RENAME fromdir_wcc');
  assertDirectoryChanged(renamed.toDirWcc, 'RENAME todir_wcc');
  assert.equal((await client.getattr(target)).status, nfsstat3.NFS3ERR_STALE, 'the replaced file is gone');
  assert.deepEqual(await client.handleOf(to, 'target'), source, 'the name now holds the source, by its own handle');
  assert.equal((await client.lookup(from, 'source')).status, nfsstat3.NFS3ERR_NOENT);
  const read = ok(await client.read(source, 0n, 100), 'READ renamed');
  assert.equal(Buffer.from(read.data).toString(), 'source data');
});

test('procedures: LINK makes a second name for a file, and file_attributes show nlink 2', async () => {
  // Goal: RFC 1813 3.3.15: a hard link is the same object under another name.
  const dir = await workDirectory('link');
  const other = await workDirectory('link-other');
  const file = await client.createFile(dir, 'file');
  const linked = ok(await client.link(file, other, 'alias'), 'LINK');
  const fileAttributes = attributesOf(linked.fileAttributes, 'LINK file_attributes');
  assert.equal(fileAttributes.nlink, 2);
  assertDirectoryChanged(linked.linkDirWcc, 'LINK linkdir_wcc');
  assert.deepEqual(await client.handleOf(other, 'alias'), file, 'both names lead to one handle');
  assert.equal(ok(await client.getattr(file), 'GETATTR').objAttributes.nlink, 2);
  ok(await client.remove(dir, 'file'), 'REMOVE one name');
  assert.equal(ok(await client.getattr(file), 'GETATTR after REMOVE').objAttributes.nlink, 1, 'the other name keeps it');
});

/** A directory of LISTED_NAMES files with names of varied lengths, made once and shared. */
let listed: Promise<{ dir: Buffer; names: string[]; fileid: bigint }> | undefined;
function listedDirectory(): Promise<{ dir: Buffer; names: string[]; fileid: bigint }> {
  listed ??= (async () => {
    const dir = await workDirectory('listing');
    const names = Array.from({ length: LISTED_NAMES }, (_, i) => `entry-${String(i).padStart(3, '0')}-${'n'.repeat(i % 37)}`);
    for (const name of names) await client.createFile(dir, name);
    const fileid = ok(await client.getattr(dir), 'GETATTR listing').objAttributes.fileid;
    return { dir, names, fileid };
  })();
  return listed;
}

/** Every listed name exactly once, '.' and '..' once each, cookies strictly increasing. */
function assertListing(seen: { name: string; cookie: bigint }[], names: string[], what: string): void {
  assert.deepEqual(
    seen.map((entry) => entry.name).sort(),
    ['.', '..', ...names].sort(),
    `${what}: every name exactly once, with '.' and '..'`,
  );
  for (let i = 1; i < seen.length; i++) {
    assert.ok(seen[i]!.cookie > seen[i - 1]!.cookie, `${what}: cookie of ${seen[i]!.name} follows ${seen[i - 1]!.name}'s`);
  }
}

test('procedures: READDIR pages 300 entries with count 1024 until eof, each name once with increasing cookies', async () => {
  // Goal: RFC 1813 3.3.16: paging by cookie neither loses nor repeats an entry.
  const { dir, names, fileid } = await listedDirectory();
  const seen: { name: string; cookie: bigint }[] = [];
  let cookie = 0n;
  let verifier: Uint8Array = new Uint8Array(8);
  let pages = 0;
  for (;;) {
    const page = ok(await client.readdir(dir, cookie, verifier, 1024), `READDIR page ${pages}`);
    pages += 1;
    assert.ok(pages <= LISTED_NAMES, 'paging ends');
    assert.equal(attributesOf(page.dirAttributes, 'READDIR dir_attributes').fileid, fileid);
    assert.equal(page.cookieverf.length, 8);
    if (pages > 1) assert.deepEqual(Buffer.from(page.cookieverf), Buffer.from(verifier), 'the cookieverf holds while paging');
    let count = 0;
    for (let entry = page.reply.entries; entry !== undefined; entry = entry.nextentry) {
      seen.push({ name: entry.name, cookie: entry.cookie });
      if (entry.name === '.') assert.equal(entry.fileid, fileid, "'.' is the directory");
      cookie = entry.cookie;
      count += 1;
    }
    verifier = Buffer.from(page.cookieverf);
    if (page.reply.eof) break;
    assert.ok(count > 0, 'a page short of eof holds at least one entry');
  }
  assert.ok(pages > 1, `count 1024 needs several pages (took ${pages})`);
  assertListing(seen, names, 'READDIR');
});

test('procedures: READDIRPLUS pages 300 entries with dircount 512 and maxcount 4096, each with attributes and a handle that GETATTRs to its fileid', async () => {
  // Goal: RFC 1813 3.3.17: READDIR's guarantees plus a usable handle and attributes per entry.
  const { dir, names, fileid } = await listedDirectory();
  const seen: { name: string; cookie: bigint }[] = [];
  const handles: { name: string; fileid: bigint; handle: Buffer }[] = [];
  let cookie = 0n;
  let verifier: Uint8Array = new Uint8Array(8);
  let pages = 0;
  for (;;) {
    const page = ok(await client.readdirplus(dir, cookie, verifier, 512, 4096), `READDIRPLUS page ${pages}`);
    pages += 1;
    assert.ok(pages <= LISTED_NAMES, 'paging ends');
    assert.equal(attributesOf(page.dirAttributes, 'READDIRPLUS dir_attributes').fileid, fileid);
    for (let entry = page.reply.entries; entry !== undefined; entry = entry.nextentry) {
      seen.push({ name: entry.name, cookie: entry.cookie });
      const attributes = attributesOf(entry.nameAttributes, `READDIRPLUS ${entry.name}`);
      assert.equal(attributes.fileid, entry.fileid, `${entry.name}: attributes of the entry`);
      const handle = handleOf(entry.nameHandle);
      assert.ok(handle !== undefined, `${entry.name}: a handle`);
      handles.push({ name: entry.name, fileid: entry.fileid, handle });
      cookie = entry.cookie;
    }
    verifier = Buffer.from(page.cookieverf);
    if (page.reply.eof) break;
  }
  assert.ok(pages > 1, `dircount 512 needs several pages (took ${pages})`);
  assertListing(seen, names, 'READDIRPLUS');
  for (const { name, fileid: expected, handle } of handles) {
    const attributes = ok(await client.getattr(handle), `GETATTR ${name}`).objAttributes;
    assert.equal(attributes.fileid, expected, `${name}: the handle is the entry's`);
  }
});

/** One READDIRPLUS page as raw bytes: the reply's size from its status on, and each entry's sizes. */
interface RawPage {
  readonly bytes: number;
  readonly entries: { cookie: bigint; bytes: number; directoryBytes: number }[];
  readonly cookieverf: Buffer;
  readonly eof: boolean;
}

async function readdirplusRaw(dir: Buffer, cookie: bigint, cookieverf: Buffer, dircount: number, maxcount: number): Promise<RawPage> {
  const handle = Buffer.alloc(4 + dir.length + ((4 - (dir.length % 4)) % 4));
  handle.writeUInt32BE(dir.length, 0);
  dir.copy(handle, 4);
  const counts = Buffer.alloc(16);
  counts.writeBigUInt64BE(cookie, 0);
  counts.writeUInt32BE(dircount, 8);
  counts.writeUInt32BE(maxcount, 12);
  const args = Buffer.concat([handle, counts.subarray(0, 8), cookieverf, counts.subarray(8)]);
  const body = successBody(await client.rpc.call({ program: NFS_PROGRAM, version: NFS_VERSION, procedure: 17, credential: ROOT, args }));
  assert.equal(body.readUInt32BE(0), nfsstat3.NFS3_OK, 'READDIRPLUS status');
  const skipOpaque = (at: number): number => at + 4 + body.readUInt32BE(at) + ((4 - (body.readUInt32BE(at) % 4)) % 4);
  const FATTR3 = 84;
  let at = 4;
  at += 4 + (body.readUInt32BE(at) === 1 ? FATTR3 : 0);
  const verifier = Buffer.from(body.subarray(at, at + 8));
  at += 8;
  const entries: RawPage['entries'] = [];
  while (body.readUInt32BE(at) === 1) {
    const start = at;
    at = skipOpaque(at + 4 + 8);
    const entryCookie = body.readBigUInt64BE(at);
    at += 8;
    const directoryBytes = at - start;
    at += 4 + (body.readUInt32BE(at) === 1 ? FATTR3 : 0);
    at = body.readUInt32BE(at) === 1 ? skipOpaque(at + 4) : at + 4;
    entries.push({ cookie: entryCookie, bytes: at - start, directoryBytes });
  }
  at += 4;
  const eof = body.readUInt32BE(at) === 1;
  assert.equal(at + 4, body.length, 'the page ends after eof');
  return { bytes: body.length, entries, cookieverf: verifier, eof };
}

test('procedures: READDIRPLUS fills each page up to maxcount or dircount, whichever binds, and never past it', async () => {
  // Goal: RFC 1813 3.3.17: maxcount bounds the whole result and dircount the directory part;
  // a page short of eof holds every entry that fits, so a listing takes no more round trips
  // than the client's budget needs.
  const { dir } = await listedDirectory();
  for (const [dircount, maxcount] of [
    [65536, 4096],
    [65536, 32768],
    [512, 65536],
  ] as const) {
    let cookie = 0n;
    let verifier: Buffer = Buffer.alloc(8);
    let previous: RawPage | undefined;
    let listed = 0;
    for (let pages = 1; ; pages++) {
      assert.ok(pages <= LISTED_NAMES, 'paging ends');
      const page = await readdirplusRaw(dir, cookie, verifier, dircount, maxcount);
      const what = `dircount ${dircount}, maxcount ${maxcount}, page ${pages}`;
      const directoryBytes = page.entries.reduce((sum, entry) => sum + entry.directoryBytes, 0);
      assert.ok(page.bytes <= maxcount, `${what}: ${page.bytes} bytes fit maxcount`);
      assert.ok(directoryBytes <= dircount, `${what}: ${directoryBytes} directory bytes fit dircount`);
      if (previous !== undefined) {
        // The previous page was full: this page's first entry would not have fitted in it.
        const next = page.entries[0]!;
        const previousDirectoryBytes = previous.entries.reduce((sum, entry) => sum + entry.directoryBytes, 0);
        assert.ok(
          previous.bytes + next.bytes > maxcount || previousDirectoryBytes + next.directoryBytes > dircount,
          `${what}: the page before it had room for its first entry`,
        );
      }
      listed += page.entries.length;
      if (page.eof) break;
      assert.ok(page.entries.length > 0, `${what}: a page short of eof holds an entry`);
      cookie = page.entries.at(-1)!.cookie;
      verifier = page.cookieverf;
      previous = page;
    }
    assert.equal(listed, LISTED_NAMES + 2, `dircount ${dircount}, maxcount ${maxcount}: every entry, '.' and '..' once`);
  }
});

test('procedures: READDIR with count 60, too small for one entry, answers TOOSMALL', async () => {
  // Goal: RFC 1813 3.3.16: NFS3ERR_TOOSMALL when not even one entry fits in count.
  const { dir } = await listedDirectory();
  const result = await client.readdir(dir, 0n, new Uint8Array(8), 60);
  assert.equal(result.status, nfsstat3.NFS3ERR_TOOSMALL);
});

test('procedures: FSSTAT reports the backing file system: tbytes >= fbytes >= abytes > 0 and files, as statfs does', async () => {
  // Goal: RFC 1813 3.3.18: real capacity, not invented numbers.
  const statsBefore = statfsSync(volumeDir, { bigint: true });
  const result = ok(await client.fsstat(root), 'FSSTAT');
  const statsAfter = statfsSync(volumeDir, { bigint: true });
  attributesOf(result.objAttributes, 'FSSTAT obj_attributes');
  assert.ok(result.tbytes >= result.fbytes, `tbytes ${result.tbytes} >= fbytes ${result.fbytes}`);
  assert.ok(result.fbytes >= result.abytes, `fbytes ${result.fbytes} >= abytes ${result.abytes}`);
  assert.ok(result.abytes > 0n, 'abytes > 0');
  assert.ok(result.tfiles > 0n, 'tfiles > 0');
  assert.ok(result.tfiles >= result.ffiles && result.ffiles >= result.afiles, 'file counts are ordered');

  const within = (value: bigint, a: bigint, b: bigint, tolerance: bigint): boolean =>
    value >= (a < b ? a : b) - tolerance && value <= (a > b ? a : b) + tolerance;
  const { bsize } = statsBefore;
  assert.equal(result.tbytes, bsize * statsBefore.blocks, 'tbytes is the backing size');
  assert.equal(result.tfiles, statsBefore.files, 'tfiles is the backing inode count');
  assert.ok(within(result.fbytes, bsize * statsBefore.bfree, bsize * statsAfter.bfree, FREE_BYTES_TOLERANCE), `fbytes ${result.fbytes}`);
  assert.ok(within(result.abytes, bsize * statsBefore.bavail, bsize * statsAfter.bavail, FREE_BYTES_TOLERANCE), `abytes ${result.abytes}`);
  assert.ok(within(result.ffiles, statsBefore.ffree, statsAfter.ffree, FREE_FILES_TOLERANCE), `ffiles ${result.ffiles}`);
});

test('procedures: FSINFO promises 1 MiB reads and writes, 2^63-1 byte files, and LINK, SYMLINK, HOMOGENEOUS and CANSETTIME', async () => {
  // Goal: RFC 1813 3.3.19: the limits clients size their requests by.
  const result = ok(await client.fsinfo(root), 'FSINFO');
  attributesOf(result.objAttributes, 'FSINFO obj_attributes');
  assert.equal(result.rtmax, MiB);
  assert.equal(result.wtmax, MiB);
  assert.ok(result.rtpref > 0 && result.rtpref <= result.rtmax, `rtpref ${result.rtpref}`);
  assert.ok(result.wtpref > 0 && result.wtpref <= result.wtmax, `wtpref ${result.wtpref}`);
  assert.ok(result.dtpref > 0, `dtpref ${result.dtpref}`);
  assert.equal(result.maxfilesize, FILE_BYTES_MAX);
  const properties = FSF3_LINK | FSF3_SYMLINK | FSF3_HOMOGENEOUS | FSF3_CANSETTIME;
  assert.equal(result.properties & properties, properties, `properties ${result.properties.toString(16)}`);
});

test('procedures: PATHCONF says names up to 255 bytes, never truncated, case-preserving and case-sensitive', async () => {
  // Goal: RFC 1813 3.3.20: the POSIX limits the volume keeps.
  const result = ok(await client.pathconf(root), 'PATHCONF');
  attributesOf(result.objAttributes, 'PATHCONF obj_attributes');
  assert.equal(result.namemax, 255);
  assert.equal(result.noTrunc, true);
  assert.equal(result.casePreserving, true);
  assert.equal(result.caseInsensitive, false);
  assert.ok(result.linkmax >= 2, `linkmax ${result.linkmax}`);
});

test('procedures: a file sized 2^63-1 by SETATTR keeps that size and reads zeros with eof at its end', async () => {
  // Goal: RFC 1813 3.3.2 and 3.3.6: sparse files as large as maxfilesize behave like any other.
  const dir = await workDirectory('sparse');
  const file = await client.createFile(dir, 'huge');
  const result = ok(await client.setattr(file, { size: FILE_BYTES_MAX }), 'SETATTR size');
  assert.equal(wccOf(result.objWcc, 'SETATTR obj_wcc').after.size, FILE_BYTES_MAX);
  assert.equal(ok(await client.getattr(file), 'GETATTR').objAttributes.size, FILE_BYTES_MAX);
  const read = ok(await client.read(file, FILE_BYTES_MAX - 4096n, 4096), 'READ at the end');
  assert.equal(read.count, 4096);
  assert.ok(Buffer.from(read.data).equals(Buffer.alloc(4096)), 'a hole reads as zeros');
  assert.equal(read.eof, true, 'the read reaches the end');
});
