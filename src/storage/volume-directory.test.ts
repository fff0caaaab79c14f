import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT, withTemporaryDirectory } from './volume-fixture.js';
import { fsidOf, HANDLE_KEY_FILE, IDENTITY_FILE } from './volume-directory.js';
import { createVolume, openVolume } from './volume.js';

const run = promisify(execFile);
const VOLUME_MODULE = new URL('./volume.js', import.meta.url).href;

/** Runs `body` in a child process that opens the volume at `dir` and exits without closing it. */
async function crashAfter(dir: string, body: string): Promise<string> {
  const script = `
    const { openVolume } = await import(${JSON.stringify(VOLUME_MODULE)});
    const volume = await openVolume(${JSON.stringify(dir)});
    const root = { uid: 0, gid: 0, gids: [] };
    ${body}
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim();
}

test('volume directory: create returns an identity that open reads back', async () => {
  // Goal: id, name (defaulting to the directory name) and fsid survive the round trip.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'projects');
    const created = await createVolume(dir, {});
    assert.equal(created.id.length, 16);
    assert.equal(created.name, 'projects');
    assert.equal(created.fsid, fsidOf(created.id));
    const volume = await openVolume(dir);
    try {
      assert.deepEqual(volume.identity, created);
      const root = volume.getattr(volume.rootFileId);
      assert.equal(root.type, 'dir');
      assert.equal(root.mode, 0o755);
      assert.equal(root.uid, 0);
      assert.equal(root.gid, 0);
      assert.equal(root.nlink, 2);
      assert.equal(root.fsid, created.fsid);
    } finally {
      await volume.close();
    }
  });
});

test('volume directory: the fsid is fixed at creation and differs between volumes', async () => {
  // Goal: the fsid is stored, not recomputed from anything about the node.
  await withTemporaryDirectory(async (parent) => {
    const first = await createVolume(join(parent, 'a'), { name: 'alpha' });
    const second = await createVolume(join(parent, 'b'), {});
    assert.equal(first.name, 'alpha');
    assert.notEqual(first.fsid, second.fsid);
    const stored = JSON.parse(await readFile(join(parent, 'a', IDENTITY_FILE), 'utf8')) as { fsid: string };
    assert.equal(BigInt(stored.fsid), first.fsid);
    for (let round = 0; round < 2; round += 1) {
      const volume = await openVolume(join(parent, 'a'));
      assert.equal(volume.identity.fsid, first.fsid);
      await volume.close();
    }
  });
});

test('volume directory: the handle key is 32 bytes readable only by its owner', async () => {
  // Goal: the per-volume secret is created with mode 0600.
  await withTemporaryDirectory(async (parent) => {
    await createVolume(join(parent, 'v'), {});
    const info = await stat(join(parent, 'v', HANDLE_KEY_FILE));
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(info.size, 32);
  });
});

test('volume directory: create refuses a directory that already holds a volume', async () => {
  // Goal: a second create cannot overwrite a volume's identity or keys.
  await withTemporaryDirectory(async (parent) => {
    await createVolume(join(parent, 'v'), {});
    await assert.rejects(createVolume(join(parent, 'v'), {}), { code: 'exists' });
  });
});

test('volume directory: create refuses a non-empty directory that is not a volume', async () => {
  // Goal: an operator's typo does not turn a directory with data into a volume.
  await withTemporaryDirectory(async (parent) => {
    await mkdir(join(parent, 'busy'));
    await writeFile(join(parent, 'busy', 'notes.txt'), 'hello');
    await assert.rejects(createVolume(join(parent, 'busy'), {}), { code: 'invalid' });
  });
});

test('volume directory: open refuses a directory that is not a volume', async () => {
  // Goal: a clear refusal, not a half-open volume.
  await withTemporaryDirectory(async (parent) => {
    await assert.rejects(openVolume(parent), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'invalid');
      assert.match(error.message, /not a volume/);
      return true;
    });
  });
});

test('volume directory: open refuses an unknown format version', async () => {
  // Goal: a newer layout is never misread.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const path = join(dir, IDENTITY_FILE);
    const identity = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>;
    await writeFile(path, JSON.stringify({ ...identity, format: 99 }));
    await assert.rejects(openVolume(dir), (error: Error & { code?: string }) => {
      assert.equal(error.code, 'not-supported');
      assert.match(error.message, /format 99/);
      return true;
    });
  });
});

test('volume directory: the write verifier survives a clean close and reopen', async () => {
  // Goal: RFC 1813 3.3.7 lets a server keep its verifier when nothing was lost (restart, handover).
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const first = await openVolume(dir);
    const verifier = Buffer.from(first.writeVerifier);
    assert.equal(verifier.length, 8);
    const file = first.create(ROOT, first.rootFileId, 'f', { mode: 'unchecked', attributes: {} });
    await first.write(ROOT, file, 0n, Buffer.from('unstable'), 'unstable');
    await first.close();
    const second = await openVolume(dir);
    try {
      assert.deepEqual(second.writeVerifier, verifier);
      assert.equal(second.getattr(file).size, 8n, 'close committed the pending size');
    } finally {
      await second.close();
    }
  });
});

test('volume directory: the write verifier changes after a process exits without closing', async () => {
  // Goal: after a crash, acknowledged unstable data may be lost, so clients must see a new verifier.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const verifierBefore = await crashAfter(
      dir,
      `const file = volume.create(root, volume.rootFileId, 'f', { mode: 'unchecked', attributes: {} });
       await volume.write(root, file, 0n, Buffer.from('lost?'), 'unstable');
       console.log(volume.writeVerifier.toString('hex'));`,
    );
    assert.match(verifierBefore, /^[0-9a-f]{16}$/);
    const volume = await openVolume(dir);
    try {
      assert.notEqual(volume.writeVerifier.toString('hex'), verifierBefore);
    } finally {
      await volume.close();
    }
  });
});

test('volume directory: an unstable write made stable by commit survives a crash', async () => {
  // Goal: COMMIT makes data and size stable even if the process then dies without close.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const fileid = await crashAfter(
      dir,
      `const file = volume.create(root, volume.rootFileId, 'f', { mode: 'unchecked', attributes: {} });
       await volume.write(root, file, 4096n, Buffer.from('committed'), 'unstable');
       await volume.commit(file);
       console.log(String(file));`,
    );
    const volume = await openVolume(dir);
    try {
      const file = volume.lookup(ROOT, volume.rootFileId, 'f');
      assert.equal(String(file), fileid);
      assert.equal(volume.getattr(file).size, 4105n);
      const { data, eof } = await volume.read(ROOT, file, 4096n, 100);
      assert.equal(data.toString(), 'committed');
      assert.equal(eof, true);
    } finally {
      await volume.close();
    }
  });
});
