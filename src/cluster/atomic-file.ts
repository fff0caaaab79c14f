// Crash-safe file writes for the mailbox (layer: cluster), on storage both nodes of a pair reach
// (docs/design/takeover.md, "The mailbox"). Three ways to put bytes on disk and one to read them:
// - `createExclusive`: a file that must not exist yet (O_CREAT | O_EXCL, open flag 'wx'); the
//   create is the decision, so at most one caller ever gets `true` for a path.
// - `replaceAtomically`: a temporary file in the same folder, written, fsynced, renamed over the
//   target, then the folder fsynced: a reader sees the old contents or the new, never a mix.
//   `replaceAtomicallySync` does the same with blocking calls, for a worker thread that must not
//   queue its writes behind other I/O in libuv's shared pool (the lease; fencing.md, "Defaults").
// - `syncFolderOf`: fsync of a folder, so the names created or renamed in it survive a crash.
// - `readBounded`: reads a whole file only when it is at most `bytesMax` long.
// The asynchronous counterparts of storage's writeNewFile / syncFolder (volume-directory.ts,
// file-data.ts): the mailbox is used on the takeover path and must not block the event loop.
// Errors are Node's own (with `code` and `path`); the mailbox turns them into its codes.

import { randomBytes } from 'node:crypto';
import { closeSync, constants as fsConstants, fsyncSync, openSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Random bytes in a temporary file's name, so concurrent writers (two nodes) never share one. */
export const TEMPORARY_NAME_RANDOM_BYTES = 8;
/** Mode of the files written here: readable by the partner's process, whatever its user. */
export const MAILBOX_FILE_MODE = 0o644;

/** How temporary files are named: `<target>.<random hex>.tmp`, beside their target. */
export const TEMPORARY_SUFFIX = '.tmp';

/** fsyncs a folder, so the names created, renamed or removed in it survive a crash. */
export async function syncFolderOf(folder: string): Promise<void> {
  const handle = await open(folder, fsConstants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Creates `path` exclusively with `contents`, makes the contents and the name stable, and returns
 * true; returns false, writing nothing, when `path` already exists. A failure after the create
 * leaves the (possibly short) file in place: the name is already taken, and removing it would let
 * a second caller win the same path.
 */
export async function createExclusive(path: string, contents: Buffer): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', MAILBOX_FILE_MODE);
  } catch (error) {
    if (errorCode(error) === 'EEXIST') return false;
    throw error;
  }
  try {
    // One writeFile call: a reader racing with us sees an empty file or the whole contents on a
    // local file system; readers of the mailbox wait out a short file anyway (mailbox.ts).
    await handle.writeFile(contents);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncFolderOf(dirname(path));
  return true;
}

/** A fresh temporary name beside `path`: `<target>.<random hex>.tmp`. */
function temporaryPathOf(path: string): string {
  return join(dirname(path), `${basename(path)}.${randomBytes(TEMPORARY_NAME_RANDOM_BYTES).toString('hex')}${TEMPORARY_SUFFIX}`);
}

/** Replaces `path` with `contents` atomically and durably (temporary file, fsync, rename, fsync folder). */
export async function replaceAtomically(path: string, contents: Buffer): Promise<void> {
  const temporary = temporaryPathOf(path);
  const handle = await open(temporary, 'wx', MAILBOX_FILE_MODE);
  try {
    try {
      await handle.writeFile(contents);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, path);
  } catch (error) {
    // Best effort: a temporary file left behind is ignored by every reader.
    await unlink(temporary).catch(() => undefined);
    throw error;
  }
  await syncFolderOf(dirname(path));
}

/**
 * `replaceAtomically` with blocking system calls: the same steps, the same temporary names, the
 * same cleanup. Blocks the calling thread for the whole write and both fsyncs.
 */
export function replaceAtomicallySync(path: string, contents: Buffer): void {
  const temporary = temporaryPathOf(path);
  const fd = openSync(temporary, 'wx', MAILBOX_FILE_MODE);
  try {
    try {
      writeFileSync(fd, contents); // loops over short writes, like handle.writeFile
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // Best effort: a temporary file left behind is ignored by every reader.
    }
    throw error;
  }
  syncFolderOfSync(dirname(path));
}

function syncFolderOfSync(folder: string): void {
  const fd = openSync(folder, fsConstants.O_RDONLY);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** What `readBounded` found. */
export type BoundedRead =
  | { readonly kind: 'absent' }
  | { readonly kind: 'too-large'; readonly bytes: number }
  | { readonly kind: 'read'; readonly contents: Buffer };

/**
 * Reads all of `path` when it holds at most `bytesMax` bytes. Never reads more than
 * `bytesMax + 1` bytes, even if the file grows while it is read.
 */
export async function readBounded(path: string, bytesMax: number): Promise<BoundedRead> {
  let handle;
  try {
    handle = await open(path, fsConstants.O_RDONLY);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return { kind: 'absent' };
    throw error;
  }
  try {
    const { size } = await handle.stat();
    if (size > bytesMax) return { kind: 'too-large', bytes: size };
    // Sized by fstat, plus one byte to notice growth; grown (up to the limit) if the file grew.
    let buffer = Buffer.alloc(size + 1);
    let filled = 0;
    for (;;) {
      if (filled === buffer.length) {
        if (filled > bytesMax) return { kind: 'too-large', bytes: filled };
        const grown = Buffer.alloc(Math.min(buffer.length * 2, bytesMax + 1));
        buffer.copy(grown);
        buffer = grown;
      }
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    if (filled > bytesMax) return { kind: 'too-large', bytes: filled };
    return { kind: 'read', contents: buffer.subarray(0, filled) };
  } finally {
    await handle.close();
  }
}

/** The `code` of a Node system error ('ENOENT', 'EEXIST', ...), or undefined. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
