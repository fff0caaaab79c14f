// Tests of atomic-file.ts: exclusive creation, atomic replacement and bounded reads.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExclusive, errorCode, readBounded, replaceAtomically, replaceAtomicallySync } from './atomic-file.js';

async function withFolder(work: (folder: string) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(join(tmpdir(), 'tandem-atomic-'));
  try {
    await work(folder);
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

test('atomic file: an exclusive create succeeds once and never overwrites', async () => {
  // Goal: the second creator of a path learns it lost, and the first one's bytes stay.
  await withFolder(async (folder) => {
    const path = join(folder, 'claim.json');
    assert.equal(await createExclusive(path, Buffer.from('first')), true);
    assert.equal(await createExclusive(path, Buffer.from('second')), false);
    assert.equal(await readFile(path, 'utf8'), 'first');
  });
});

test('atomic file: of many concurrent exclusive creates of one path exactly one succeeds', async () => {
  // Goal: the create is the decision, even between racers in one process.
  await withFolder(async (folder) => {
    const path = join(folder, 'raced.json');
    const outcomes = await Promise.all(Array.from({ length: 8 }, (_, index) => createExclusive(path, Buffer.from(`${index}`))));
    assert.equal(outcomes.filter((won) => won).length, 1);
    assert.equal(await readFile(path, 'utf8'), `${outcomes.indexOf(true)}`);
  });
});

test('atomic file: a replacement swaps the whole contents and leaves no temporary file', async () => {
  // Goal: after replaceAtomically the target holds exactly the new bytes and the folder nothing else.
  await withFolder(async (folder) => {
    const path = join(folder, 'state.json');
    await replaceAtomically(path, Buffer.from('old, and longer than the new'));
    await replaceAtomically(path, Buffer.from('new'));
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.deepEqual(await readdir(folder), ['state.json']);
  });
});

test('atomic file: a synchronous replacement swaps the whole contents, and a failed one leaves no temporary file', async () => {
  // Goal: replaceAtomicallySync keeps the promises of replaceAtomically, including its cleanup.
  await withFolder(async (folder) => {
    const path = join(folder, 'state.json');
    replaceAtomicallySync(path, Buffer.from('old, and longer than the new'));
    replaceAtomicallySync(path, Buffer.from('new'));
    assert.equal(await readFile(path, 'utf8'), 'new');
    assert.deepEqual(await readdir(folder), ['state.json']);
    // The rename fails (a file cannot replace a non-empty folder) after the temporary file was written.
    const occupied = join(folder, 'occupied');
    await mkdir(occupied);
    await writeFile(join(occupied, 'inside'), '');
    assert.throws(() => replaceAtomicallySync(occupied, Buffer.from('x')), (error: unknown) => errorCode(error) !== undefined);
    assert.deepEqual((await readdir(folder)).sort(), ['occupied', 'state.json']);
    // The folder is gone: the temporary file cannot even be created.
    assert.throws(() => replaceAtomicallySync(join(folder, 'gone', 'state.json'), Buffer.from('x')), (error: unknown) => errorCode(error) === 'ENOENT');
  });
});

test('atomic file: a bounded read returns absent, the contents, or too-large', async () => {
  // Goal: no file is read past its limit, and a missing file is not an error.
  await withFolder(async (folder) => {
    const path = join(folder, 'file');
    assert.deepEqual(await readBounded(path, 4), { kind: 'absent' });
    await writeFile(path, '');
    assert.deepEqual(await readBounded(path, 4), { kind: 'read', contents: Buffer.alloc(0) });
    await writeFile(path, '1234');
    assert.deepEqual(await readBounded(path, 4), { kind: 'read', contents: Buffer.from('1234') });
    await writeFile(path, '12345');
    assert.deepEqual(await readBounded(path, 4), { kind: 'too-large', bytes: 5 });
  });
});
