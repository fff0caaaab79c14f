// Integration: permissions as a Linux client sees them (EACCES = NFS3ERR_ACCES, EPERM =
// NFS3ERR_PERM, EROFS = NFS3ERR_ROFS) from real `tandem serve` processes: root squashing, owner
// and group checks, the sticky bit, truthful ACCESS replies, a read-only export and a client
// that no rule admits. The trees are laid out through a no_root_squash server first, then the
// volume is served again with the rules under test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createVolumeWithCli, TandemProcess } from '../support/processes.js';
import { scratchDirectory } from '../support/scratch.js';
import { NfsClient, ROOT, type AuthSys } from '../support/rpc-client.js';
import {
  ACCESS3_DELETE,
  ACCESS3_EXECUTE,
  ACCESS3_EXTEND,
  ACCESS3_LOOKUP,
  ACCESS3_MODIFY,
  ACCESS3_READ,
  nfsstat3,
} from '../../src/nfs3/constants.js';
import { mountstat3 } from '../../src/mount/program.js';

const ANONYMOUS_ID = 65534;
const ALL_ACCESS = ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE | ACCESS3_EXECUTE;
const USER_1000: AuthSys = { uid: 1000, gid: 1000, gids: [] };
const USER_1001: AuthSys = { uid: 1001, gid: 1001, gids: [] };

const scratch = scratchDirectory('permissions');
const servers: TandemProcess[] = [];
const clients: NfsClient[] = [];

/** The rw, root_squash export. */
let rw: NfsClient;
let rwRoot: Buffer;
/** The ro, no_root_squash export. */
let ro: NfsClient;
let roRoot: Buffer;
/** A server that admits 127.0.0.2 only, and the root handle of its volume. */
let onlyOther: TandemProcess;
let onlyOtherRoot: Buffer;

function serveArgs(volumeDir: string, clientRules: string): string[] {
  return ['--volume', volumeDir, '--listen', '127.0.0.1:0', '--clients', clientRules, '--log-level', 'warn'];
}

/** Serves `volumeDir` with no_root_squash, runs `layout` as root on its root, stops it. */
async function laidOut(
  volumeName: string,
  layout: (client: NfsClient, root: Buffer) => Promise<void>,
): Promise<{ dir: string; root: Buffer }> {
  const dir = path.join(scratch.path, volumeName);
  await createVolumeWithCli(dir, volumeName);
  const setup = await TandemProcess.serve(serveArgs(dir, '*(rw,no_root_squash)'), 1);
  try {
    const client = await NfsClient.connect(setup.port);
    const root = await client.mountRoot(`/${volumeName}`);
    await layout(client, root);
    await client.close();
    return { dir, root };
  } finally {
    await setup.stop();
  }
}

async function serveAndMount(dir: string, rules: string, exportPath: string): Promise<{ client: NfsClient; root: Buffer }> {
  const server = await TandemProcess.serve(serveArgs(dir, rules), 1);
  servers.push(server);
  const client = await NfsClient.connect(server.port);
  clients.push(client);
  return { client, root: await client.mountRoot(exportPath) };
}

before(async () => {
  const rwVolume = await laidOut('rw', async (client, root) => {
    assert.equal((await client.setattr(root, { mode: 0o777 })).status, nfsstat3.NFS3_OK);
    await client.createFile(root, 'private', { mode: 0o600, uid: 1000, gid: 1000 });
    await client.makeDirectory(root, 'home1000', { mode: 0o755, uid: 1000, gid: 1000 });
    await client.makeDirectory(root, 'sticky', { mode: 0o1777 });
  });
  const roVolume = await laidOut('ro', async (client, root) => {
    const file = await client.createFile(root, 'file', { mode: 0o666 });
    assert.equal((await client.write(file, 0n, Buffer.from('read-only data'))).status, nfsstat3.NFS3_OK);
    const dir = await client.makeDirectory(root, 'dir', { mode: 0o777 });
    await client.makeDirectory(dir, 'empty', { mode: 0o777 });
  });
  const otherVolume = await laidOut('other', async () => {});

  ({ client: rw, root: rwRoot } = await serveAndMount(rwVolume.dir, '127.0.0.0/8(rw,root_squash)', '/rw'));
  ({ client: ro, root: roRoot } = await serveAndMount(roVolume.dir, '127.0.0.0/8(ro,no_root_squash)', '/ro'));
  onlyOther = await TandemProcess.serve(serveArgs(otherVolume.dir, '127.0.0.2(rw)'), 1);
  servers.push(onlyOther);
  onlyOtherRoot = otherVolume.root;
});

after(async () => {
  for (const client of clients) await client.close();
  for (const server of servers) await server.stop();
  scratch.remove();
});

/** The ACCESS bits granted to `client` on `handle`, asked for all of them. */
async function granted(client: NfsClient, handle: Buffer): Promise<number> {
  const result = await client.access(handle, ALL_ACCESS);
  assert.equal(result.status, nfsstat3.NFS3_OK);
  return result.resok!.access;
}

test('root_squash: a file that root creates is owned by the anonymous uid and gid 65534', async () => {
  // Goal: root_squash maps uid 0 and gid 0 to the anonymous ids for new files.
  const result = await rw.as(ROOT).create(rwRoot, 'made-by-root', { mode: 'guarded', attributes: { mode: 0o644 } });
  assert.equal(result.status, nfsstat3.NFS3_OK);
  const attributes = result.resok!.objAttributes.attributes!;
  assert.equal(attributes.uid, ANONYMOUS_ID);
  assert.equal(attributes.gid, ANONYMOUS_ID);
});

test('root_squash: root cannot read a 0600 file of uid 1000 (NFS3ERR_ACCES), and ACCESS grants it nothing', async () => {
  // Goal: a squashed root has no more rights than anyone else: no read of another's 0600 file.
  const file = await rw.handleOf(rwRoot, 'private');
  assert.equal((await rw.as(ROOT).read(file, 0n, 16)).status, nfsstat3.NFS3ERR_ACCES);
  assert.equal(await granted(rw.as(ROOT), file), 0);
  // The owner reads it.
  assert.equal((await rw.as(USER_1000).read(file, 0n, 16)).status, nfsstat3.NFS3_OK);
  assert.equal(await granted(rw.as(USER_1000), file), ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND);
});

test('owner: uid 1001 cannot WRITE a 0644 file of uid 1000 (NFS3ERR_ACCES), nor chmod or chown it (NFS3ERR_PERM)', async () => {
  // Goal: only the owner may write a 0644 file; only root may chmod another's file or chown at all.
  const file = await rw.as(USER_1000).createFile(rwRoot, 'owned', { mode: 0o644 });
  const other = rw.as(USER_1001);
  assert.equal((await other.write(file, 0n, Buffer.from('intruder'))).status, nfsstat3.NFS3ERR_ACCES);
  assert.equal((await other.setattr(file, { mode: 0o666 })).status, nfsstat3.NFS3ERR_PERM);
  assert.equal((await other.setattr(file, { uid: 1001 })).status, nfsstat3.NFS3ERR_PERM);
  assert.equal(await granted(other, file), ACCESS3_READ);
  const attributes = (await rw.getattr(file)).resok!.objAttributes;
  assert.equal(attributes.mode & 0o7777, 0o644);
  assert.equal(attributes.uid, 1000);
  assert.equal(attributes.size, 0n);
  // The owner may do all of it but give the file away.
  const owner = rw.as(USER_1000);
  assert.equal((await owner.write(file, 0n, Buffer.from('owner'))).status, nfsstat3.NFS3_OK);
  assert.equal((await owner.setattr(file, { mode: 0o640 })).status, nfsstat3.NFS3_OK);
  assert.equal((await owner.setattr(file, { uid: 1001 })).status, nfsstat3.NFS3ERR_PERM);
  assert.equal(await granted(owner, file), ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND);
});

test("group: uid 1001 with the file's gid among its supplementary groups may write a 0664 file", async () => {
  // Goal: supplementary groups count for the group class of the mode.
  const file = await rw.as(USER_1000).createFile(rwRoot, 'shared', { mode: 0o664 });
  assert.equal((await rw.getattr(file)).resok!.objAttributes.gid, 1000);
  const member = rw.as({ uid: 1001, gid: 1001, gids: [50, 1000] });
  assert.equal((await member.write(file, 0n, Buffer.from('member'))).status, nfsstat3.NFS3_OK);
  assert.equal(await granted(member, file), ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND);
  const stranger = rw.as(USER_1001);
  assert.equal((await stranger.write(file, 0n, Buffer.from('stranger'))).status, nfsstat3.NFS3ERR_ACCES);
  assert.equal(await granted(stranger, file), ACCESS3_READ);
});

test('directory: uid 1001 cannot CREATE or MKDIR in a 0755 directory of uid 1000 (NFS3ERR_ACCES)', async () => {
  // Goal: making an entry needs write and search permission on the directory.
  const home = await rw.handleOf(rwRoot, 'home1000');
  const other = rw.as(USER_1001);
  assert.equal((await other.create(home, 'intruder')).status, nfsstat3.NFS3ERR_ACCES);
  assert.equal((await other.mkdir(home, 'intruder-dir')).status, nfsstat3.NFS3ERR_ACCES);
  assert.equal((await rw.lookup(home, 'intruder')).status, nfsstat3.NFS3ERR_NOENT);
  assert.equal(await granted(other, home), ACCESS3_READ | ACCESS3_LOOKUP);
  const owner = rw.as(USER_1000);
  assert.equal(await granted(owner, home), ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE);
  assert.equal((await owner.create(home, 'mine')).status, nfsstat3.NFS3_OK);
});

test("sticky: uid 1001 cannot REMOVE or RENAME uid 1000's file in a 1777 directory (NFS3ERR_PERM, Linux EPERM)", async () => {
  // Goal: Linux check_sticky: in a sticky directory only the owner of a file may unlink it (EPERM).
  const sticky = await rw.handleOf(rwRoot, 'sticky');
  const owner = rw.as(USER_1000);
  const other = rw.as(USER_1001);
  await owner.createFile(sticky, 'of-1000');
  // storage: mayUnlinkFrom fails with 'perm' (Linux check_sticky: EPERM).
  assert.equal((await other.remove(sticky, 'of-1000')).status, nfsstat3.NFS3ERR_PERM);
  assert.equal((await other.rename(sticky, 'of-1000', sticky, 'taken')).status, nfsstat3.NFS3ERR_PERM);
  assert.equal((await rw.lookup(sticky, 'of-1000')).status, nfsstat3.NFS3_OK);
  // ACCESS DELETE on a directory is its write and search permission (access.ts, as knfsd):
  // the sticky bit is judged per entry, by REMOVE itself.
  assert.equal(await granted(other, sticky), ACCESS3_READ | ACCESS3_LOOKUP | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_DELETE);
  await other.createFile(sticky, 'of-1001');
  assert.equal((await other.remove(sticky, 'of-1001')).status, nfsstat3.NFS3_OK);
  assert.equal((await owner.remove(sticky, 'of-1000')).status, nfsstat3.NFS3_OK);
});

test('access: EXECUTE is granted on a 0755 file and withheld on a 0644 file', async () => {
  // Goal: ACCESS EXECUTE follows the x bits of a regular file.
  const owner = rw.as(USER_1000);
  const script = await owner.createFile(rwRoot, 'script', { mode: 0o755 });
  const plain = await owner.createFile(rwRoot, 'plain', { mode: 0o644 });
  assert.equal(await granted(rw.as(USER_1001), script), ACCESS3_READ | ACCESS3_EXECUTE);
  assert.equal(await granted(rw.as(USER_1001), plain), ACCESS3_READ);
  assert.equal(await granted(owner, script), ACCESS3_READ | ACCESS3_MODIFY | ACCESS3_EXTEND | ACCESS3_EXECUTE);
});

test('ro export: every mutating procedure answers NFS3ERR_ROFS, even to root, and nothing changes', async () => {
  // Goal: a read-only export refuses every change with ROFS, whoever asks, and changes nothing.
  const file = await ro.handleOf(roRoot, 'file');
  const dir = await ro.handleOf(roRoot, 'dir');
  const original = (await ro.getattr(file)).resok!.objAttributes;
  const calls: [string, () => Promise<{ status: number }>][] = [
    ['SETATTR', () => ro.setattr(file, { mode: 0o600 })],
    ['WRITE', () => ro.write(file, 0n, Buffer.from('x'))],
    ['CREATE', () => ro.create(roRoot, 'new-file')],
    ['MKDIR', () => ro.mkdir(roRoot, 'new-dir')],
    ['SYMLINK', () => ro.symlink(roRoot, 'new-link', 'file')],
    ['MKNOD', () => ro.mkfifo(roRoot, 'new-fifo')],
    ['REMOVE', () => ro.remove(roRoot, 'file')],
    ['RMDIR', () => ro.rmdir(dir, 'empty')],
    ['RENAME', () => ro.rename(roRoot, 'file', roRoot, 'renamed')],
    ['LINK', () => ro.link(file, roRoot, 'hard-link')],
    ['COMMIT', () => ro.commit(file)],
  ];
  for (const [name, call] of calls) assert.equal((await call()).status, nfsstat3.NFS3ERR_ROFS, name);
  assert.deepEqual((await ro.getattr(file)).resok!.objAttributes, original);
  assert.deepEqual((await ro.list(roRoot)).map((entry) => entry.name).sort(), ['.', '..', 'dir', 'file']);
  assert.equal((await ro.lookup(dir, 'empty')).status, nfsstat3.NFS3_OK);
  const read = await ro.read(file, 0n, 100);
  assert.equal(Buffer.from(read.resok!.data).toString(), 'read-only data');
});

test('ro export: ACCESS never grants MODIFY, EXTEND or DELETE, even to root of a 0777 directory', async () => {
  // Goal: ACCESS on a read-only export withholds every write right, even where the mode grants it.
  const file = await ro.handleOf(roRoot, 'file');
  const dir = await ro.handleOf(roRoot, 'dir');
  for (const caller of [ROOT, USER_1000]) {
    assert.equal(await granted(ro.as(caller), file), ACCESS3_READ, `file, uid ${caller.uid}`);
    assert.equal(await granted(ro.as(caller), dir), ACCESS3_READ | ACCESS3_LOOKUP, `directory, uid ${caller.uid}`);
  }
});

test('client rules: a client no rule matches gets MNT3ERR_ACCES from MOUNT and NFS3ERR_ACCES for a handle it kept', async () => {
  // Goal: export client rules gate MOUNT and NFS alike; the named client is admitted.
  const outsider = await NfsClient.connect(onlyOther.port, { localAddress: '127.0.0.1' });
  clients.push(outsider);
  assert.equal((await outsider.mount('/other')).status, mountstat3.MNT3ERR_ACCES);
  assert.equal((await outsider.getattr(onlyOtherRoot)).status, nfsstat3.NFS3ERR_ACCES);
  // The client the rule names is admitted.
  const admitted = await NfsClient.connect(onlyOther.port, { localAddress: '127.0.0.2' });
  clients.push(admitted);
  const mounted = await admitted.mount('/other');
  assert.equal(mounted.status, mountstat3.MNT3_OK);
  assert.deepEqual(mounted.handle, onlyOtherRoot);
  assert.equal((await admitted.getattr(onlyOtherRoot)).status, nfsstat3.NFS3_OK);
});
