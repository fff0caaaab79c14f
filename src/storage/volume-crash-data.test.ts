import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { OPEN_DATA_FILES_MAX } from './file-data.js';
import { newFile, ROOT, withTemporaryDirectory, withVolume } from './volume-fixture.js';
import { createVolume, openVolume } from './volume.js';

const run = promisify(execFile);
const VOLUME_MODULE = new URL('./volume.js', import.meta.url).href;
const KIB = 4096;

/**
 * In a child process that exits without close (a crash): creates 'f', writes 4 KiB FILE_SYNC at
 * 0, then 4 KiB of 0xAA UNSTABLE at 4096, whose size is still only in memory. Prints the
 * write verifier.
 */
async function crashAfterUnstableTail(dir: string): Promise<string> {
  const script = `
    const { openVolume } = await import(${JSON.stringify(VOLUME_MODULE)});
    const volume = await openVolume(${JSON.stringify(dir)});
    const root = { uid: 0, gid: 0, gids: [] };
    const file = volume.create(root, volume.rootFileId, 'f', { mode: 'unchecked', attributes: {} });
    await volume.write(root, file, 0n, Buffer.alloc(${KIB}, 0x11), 'file-sync');
    await volume.write(root, file, ${KIB}n, Buffer.alloc(${KIB}, 0xaa), 'unstable');
    console.log(volume.writeVerifier.toString('hex'));
    process.exit(0);
  `;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script]);
  return stdout.trim();
}

/** Crashes as above, reopens, checks what the crash lost, and runs `extend` on the file. */
async function afterCrash(extend: (volume: Awaited<ReturnType<typeof openVolume>>, file: bigint) => Promise<void>) {
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const verifierBefore = await crashAfterUnstableTail(dir);
    const volume = await openVolume(dir);
    try {
      const file = volume.lookup(ROOT, volume.rootFileId, 'f');
      assert.equal(volume.getattr(file).size, BigInt(KIB), 'the unstable size was lost');
      assert.notEqual(volume.writeVerifier.toString('hex'), verifierBefore);
      await extend(volume, file);
      assert.deepEqual((await volume.read(ROOT, file, 0n, KIB)).data, Buffer.alloc(KIB, 0x11));
      const gap = await volume.read(ROOT, file, BigInt(KIB), KIB);
      assert.deepEqual(gap.data, Buffer.alloc(KIB), 'the lost unstable bytes read as a hole');
    } finally {
      await volume.close();
    }
  });
}

test('crash: a write past the end after a crash shows zeros where lost unstable bytes were', async () => {
  // Goal: bytes of an unstable write whose size a crash lost never reappear (POSIX: a hole reads as zeros).
  await afterCrash(async (volume, file) => {
    assert.equal(await volume.write(ROOT, file, 16_384n, Buffer.from('x'), 'file-sync'), 'file-sync');
    assert.equal(volume.getattr(file).size, 16_385n);
  });
});

test('crash: growing the size with SETATTR after a crash shows zeros where lost unstable bytes were', async () => {
  // Goal: the same for SETATTR size, which opens no data file.
  await afterCrash(async (volume, file) => {
    assert.equal(volume.setattr(ROOT, file, { size: 12_288n }).size, 12_288n);
    const grown = await volume.read(ROOT, file, BigInt(KIB), 8192);
    assert.deepEqual(grown.data, Buffer.alloc(8192));
  });
});

test('crash: a read after a crash, then a write past the end, still shows zeros', async () => {
  // Goal: whichever operation opens the data file first, the lost bytes are cut before anything grows the size.
  await afterCrash(async (volume, file) => {
    assert.equal((await volume.read(ROOT, file, 0n, 10)).data.length, 10);
    await volume.write(ROOT, file, 8192n, Buffer.from('y'), 'unstable');
    assert.equal(volume.getattr(file).size, 8193n);
  });
});

test('crash cut: reopening an evicted descriptor never cuts bytes of writes in flight', async () => {
  // Goal: the cut on open (file-data.ts) trusts the size, so writes must raise it before their bytes land.
  await withVolume(async (volume) => {
    const files = Array.from({ length: OPEN_DATA_FILES_MAX + 64 }, (_, index) =>
      newFile(volume, ROOT, volume.rootFileId, `f${index}`),
    );
    const chunk = (file: number, part: number) => Buffer.alloc(512, (file * 7 + part) % 251);
    const PARTS = 4;
    // All in flight at once, part by part across the files, each part extending its file: by the
    // time a file's next part is issued its descriptor was evicted in use, so it is reopened (and
    // cut) while the earlier parts are still in flight.
    await Promise.all(
      Array.from({ length: PARTS }, (_, part) =>
        files.map((fileid, file) => volume.write(ROOT, fileid, BigInt(part * 512), chunk(file, part), 'unstable')),
      ).flat(),
    );
    for (const [file, fileid] of files.entries()) {
      const expected = Buffer.concat(Array.from({ length: PARTS }, (_, part) => chunk(file, part)));
      assert.deepEqual((await volume.read(ROOT, fileid, 0n, PARTS * 512)).data, expected, `file ${file}`);
    }
  });
});
