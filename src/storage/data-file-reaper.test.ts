import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, fstatSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataFileReaper, REAPER_BATCH_MAX } from './data-file-reaper.js';

const folder = mkdtempSync(join(tmpdir(), 'tandem-reaper-'));
after(() => rmSync(folder, { recursive: true, force: true }));

let files = 0;
/** A new file in the scratch folder, and a descriptor open on it. */
function openedFile(): { path: string; fd: number } {
  const path = join(folder, `file-${++files}`);
  writeFileSync(path, 'data');
  return { path, fd: openSync(path, 'r') };
}

const isClosed = (fd: number) => {
  try {
    fstatSync(fd);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EBADF';
  }
};

test('reaper: closes the descriptors and deletes the files it is given; settled waits until both are done', async () => {
  const reaper = new DataFileReaper();
  const a = openedFile();
  const b = openedFile();
  reaper.close(a.fd);
  reaper.unlink(a.path);
  reaper.close(b.fd);
  reaper.unlink(b.path);
  assert.equal(existsSync(a.path), true, 'nothing is done in the calling turn');
  await reaper.settled();
  assert.equal(existsSync(a.path), false);
  assert.equal(existsSync(b.path), false);
  assert.equal(isClosed(a.fd), true);
  assert.equal(isClosed(b.fd), true);
});

test('reaper: a file that does not exist is no error, and the worker goes on with the next batch', async () => {
  const reaper = new DataFileReaper();
  reaper.unlink(join(folder, 'never-written'));
  await reaper.settled();
  const c = openedFile();
  reaper.unlink(c.path);
  await reaper.settled();
  assert.equal(existsSync(c.path), false);
});

test('reaper: a full batch goes at once, more than one batch arrives whole, in order', async () => {
  const reaper = new DataFileReaper();
  const opened = Array.from({ length: REAPER_BATCH_MAX + 3 }, openedFile);
  for (const file of opened) reaper.unlink(file.path);
  await reaper.settled();
  assert.deepEqual(opened.filter((file) => existsSync(file.path)), []);
  for (const file of opened) reaper.close(file.fd);
  await reaper.settled();
  assert.deepEqual(opened.filter((file) => !isClosed(file.fd)), []);
});

/** A worker entry that cannot run: the reaper's worker dies at start. */
const UNRUNNABLE_WORKER = new URL('file:///nonexistent/tandem-reaper-worker.js');

/** Hands `reaper` a new file to close and delete, waits for settled, and checks both were done. */
async function reapsAFile(reaper: DataFileReaper): Promise<void> {
  const file = openedFile();
  reaper.unlink(file.path);
  reaper.close(file.fd);
  await reaper.settled();
  assert.equal(existsSync(file.path), false);
  assert.equal(isClosed(file.fd), true);
}

test('reaper: when its worker cannot run, settled does not hang and later work is done in this thread', async () => {
  const reaper = new DataFileReaper(UNRUNNABLE_WORKER);
  // A full batch goes at once, to a worker started for it, and is lost with it.
  const lost = Array.from({ length: REAPER_BATCH_MAX }, openedFile);
  for (const file of lost) reaper.unlink(file.path);
  await reaper.settled(); // answered by the worker's death, not by the worker
  assert.equal(lost.filter((file) => existsSync(file.path)).length, REAPER_BATCH_MAX, 'the batch went to the worker that died');
  await reapsAFile(reaper);
  for (const file of lost) reaper.close(file.fd);
  await reaper.settled();
});

test('reaper: settled does not start the worker for what is queued: a closing volume does not wait for a thread to start', async () => {
  // Had settled started the worker (one that cannot run), the batch would have gone to it and
  // been lost with it: the file would still be there.
  await reapsAFile(new DataFileReaper(UNRUNNABLE_WORKER));
});
