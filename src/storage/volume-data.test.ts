import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dataFilePath, OPEN_DATA_FILES_MAX } from './file-data.js';
import { DATA_FOLDER } from './volume-directory.js';
import { newFile, ROOT, withVolume } from './volume-fixture.js';
import { waitUntil } from '../platform/wait-fixture.js';

const MIB = 1_048_576n;
const SIZE_MAX = 2n ** 63n - 1n;

test('file data: a file never written has no data file; a write at 1 MiB leaves zeros before it', async () => {
  // Goal: data files are created lazily and holes read as zeros.
  await withVolume(async (volume, dir) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'sparse');
    const dataPath = dataFilePath(join(dir, DATA_FOLDER), file);
    assert.equal(existsSync(dataPath), false);
    await volume.write(ROOT, file, MIB, Buffer.from('tail'), 'file-sync');
    assert.equal(existsSync(dataPath), true);
    assert.equal(volume.getattr(file).size, MIB + 4n);
    const head = await volume.read(ROOT, file, 0n, 4096);
    assert.deepEqual(head.data, Buffer.alloc(4096));
    assert.equal(head.eof, false);
    const tail = await volume.read(ROOT, file, MIB - 2n, 100);
    assert.deepEqual(tail.data, Buffer.concat([Buffer.alloc(2), Buffer.from('tail')]));
    assert.equal(tail.eof, true);
    volume.remove(ROOT, volume.rootFileId, 'sparse');
    assert.equal(existsSync(dataPath), true, 'the data stays until the removal is durable (a failed commit keeps the file)');
    await volume.committed();
    // The unlink runs in the background once the removal is durable (FileData.discard).
    await waitUntil('removing the file removes its data', () => !existsSync(dataPath));
  });
});

test('file data: a size of 2^63-1 is kept in metadata and reads near the end return zeros', async () => {
  // Goal: the logical size is independent of the backing file system.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'huge');
    await volume.write(ROOT, file, 0n, Buffer.from('start'), 'unstable');
    assert.equal(volume.setattr(ROOT, file, { size: SIZE_MAX }).size, SIZE_MAX);
    assert.equal(volume.getattr(file).size, SIZE_MAX);
    const end = await volume.read(ROOT, file, SIZE_MAX - 10n, 100);
    assert.deepEqual(end.data, Buffer.alloc(10));
    assert.equal(end.eof, true);
    const beyond = await volume.read(ROOT, file, SIZE_MAX, 100);
    assert.equal(beyond.data.length, 0);
    assert.equal(beyond.eof, true);
    assert.equal((await volume.read(ROOT, file, 0n, 5)).data.toString(), 'start');
    assert.throws(() => volume.setattr(ROOT, file, { size: SIZE_MAX + 1n }), { code: 'too-big' });
  });
});

test('file data: writes past 2^63-1 or past the backing file system are too-big', async () => {
  // Goal: EFBIG, never a silent write elsewhere.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    await assert.rejects(volume.write(ROOT, file, SIZE_MAX - 1n, Buffer.from('xy'), 'unstable'), { code: 'too-big' });
    await assert.rejects(volume.write(ROOT, file, 2n ** 62n, Buffer.from('x'), 'unstable'), { code: 'too-big' });
    assert.equal(volume.getattr(file).size, 0n);
  });
});

test('file data: shrinking drops the bytes, so growing again shows zeros', async () => {
  // Goal: SETATTR size truncates the data file when shrinking; old bytes never come back.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    await volume.write(ROOT, file, 0n, Buffer.from('hello world'), 'file-sync');
    volume.setattr(ROOT, file, { size: 5n });
    assert.equal((await volume.read(ROOT, file, 0n, 100)).data.toString(), 'hello');
    volume.setattr(ROOT, file, { size: 11n });
    const grown = await volume.read(ROOT, file, 0n, 100);
    assert.deepEqual(grown.data, Buffer.concat([Buffer.from('hello'), Buffer.alloc(6)]));
  });
});

test('file data: unstable writes show in getattr at once; stable ones report file-sync', async () => {
  // Goal: pending size and mtime are visible before commit; the achieved stability is returned.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const before = volume.getattr(file);
    assert.equal(await volume.write(ROOT, file, 0n, Buffer.from('abc'), 'unstable'), 'unstable');
    const after = volume.getattr(file);
    assert.equal(after.size, 3n);
    assert.notDeepEqual(after.mtime, before.mtime);
    assert.equal(after.used, 4096n);
    await volume.commit(file);
    assert.equal(volume.getattr(file).size, 3n);
    assert.equal(await volume.write(ROOT, file, 3n, Buffer.from('d'), 'data-sync'), 'file-sync');
    assert.equal(await volume.write(ROOT, file, 4n, Buffer.from('e'), 'file-sync'), 'file-sync');
    assert.equal((await volume.read(ROOT, file, 0n, 10)).data.toString(), 'abcde');
    const listed = volume.readdir(ROOT, volume.rootFileId, 0n, 10, true).entries[0];
    assert.equal(listed?.attributes?.size, 5n);
  });
});

test('file data: parallel writes to one file, and more files than open descriptors, read back', async () => {
  // Goal: the descriptor cache and out-of-order writes keep every byte.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'parallel');
    const chunk = (index: number) => Buffer.alloc(1000, 65 + index);
    await Promise.all(
      Array.from({ length: 16 }, (_, index) => volume.write(ROOT, file, BigInt(index * 1000), chunk(index), 'unstable')),
    );
    assert.equal(volume.getattr(file).size, 16_000n);
    const all = await volume.read(ROOT, file, 0n, 16_000);
    assert.deepEqual(all.data, Buffer.concat(Array.from({ length: 16 }, (_, index) => chunk(index))));
    const many: bigint[] = [];
    for (let index = 0; index < OPEN_DATA_FILES_MAX + 20; index += 1) {
      const fileid = newFile(volume, ROOT, volume.rootFileId, `f${index}`);
      await volume.write(ROOT, fileid, 0n, Buffer.from(`file ${index}`), 'unstable');
      many.push(fileid);
    }
    for (const [index, fileid] of many.entries()) {
      assert.equal((await volume.read(ROOT, fileid, 0n, 100)).data.toString(), `file ${index}`);
    }
  });
});

test('file data: read and write refuse directories and symbolic links', async () => {
  // Goal: EISDIR for directories, EINVAL for other non-regular files.
  await withVolume(async (volume) => {
    const root = volume.rootFileId;
    const link = volume.symlink(ROOT, root, 'l', 'target', {});
    await assert.rejects(volume.read(ROOT, root, 0n, 10), { code: 'is-dir' });
    await assert.rejects(volume.write(ROOT, root, 0n, Buffer.from('x'), 'unstable'), { code: 'is-dir' });
    await assert.rejects(volume.read(ROOT, link, 0n, 10), { code: 'invalid' });
    await assert.rejects(volume.commit(999_999n), { code: 'stale' });
  });
});

test('file data: fsstat reports the capacity of the backing file system', async () => {
  // Goal: plausible, consistent numbers from statfs.
  await withVolume(async (volume) => {
    const stats = await volume.fsstat();
    assert.ok(stats.totalBytes > 0n);
    assert.ok(stats.freeBytes <= stats.totalBytes);
    assert.ok(stats.availableBytes <= stats.freeBytes);
    assert.ok(stats.totalFiles > 0n);
    assert.ok(stats.freeFiles <= stats.totalFiles);
  });
});

test('file data: a write of several buffers (a WRITE as the socket delivered it) stores them in order, at its offset', async () => {
  // Goal: the gathered write (record-marking.ts) writes exactly the bytes a joined buffer would.
  await withVolume(async (volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'gathered');
    const pieces = [Buffer.from('ab'), Buffer.alloc(0), Buffer.alloc(70_000, 'x'), Buffer.from('cde')];
    assert.equal(await volume.write(ROOT, file, 5n, pieces, 'file-sync'), 'file-sync');
    const expected = Buffer.concat([Buffer.alloc(5), ...pieces]);
    assert.equal(volume.getattr(file).size, BigInt(expected.length));
    assert.deepEqual((await volume.read(ROOT, file, 0n, expected.length + 10)).data, expected);
    assert.equal(await volume.write(ROOT, file, 0n, [], 'unstable'), 'unstable', 'no buffers: nothing written');
    assert.equal(volume.getattr(file).size, BigInt(expected.length));
  });
});
