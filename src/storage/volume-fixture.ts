// Shared setup of the storage tests: callers, a deterministic clock, and volumes in temporary
// directories that are removed afterwards. Not a test itself (the name matches no test pattern).

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Caller, Timestamp, Volume } from './types.js';
import { createVolume, openVolume } from './volume.js';

export const ROOT: Caller = { uid: 0, gid: 0, gids: [] };
export const ALICE: Caller = { uid: 1000, gid: 1000, gids: [] };
export const BOB: Caller = { uid: 1001, gid: 1001, gids: [] };
/** In Alice's group (1000) through a supplementary group. */
export const CAROL: Caller = { uid: 1002, gid: 1002, gids: [1000] };

/** A clock that advances one microsecond per reading, from a fixed start. */
export function tickingClock(startSeconds = 1_700_000_000): () => Timestamp {
  let nanoseconds = BigInt(startSeconds) * 1_000_000_000n;
  return () => {
    nanoseconds += 1000n;
    return { seconds: Number(nanoseconds / 1_000_000_000n), nanoseconds: Number(nanoseconds % 1_000_000_000n) };
  };
}

/** Runs `work` with a fresh temporary directory, removed afterwards. */
export async function withTemporaryDirectory<T>(work: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(join(tmpdir(), 'tandem-storage-'));
  try {
    return await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

/** Runs `work` with a new open volume (closed afterwards) and its directory. */
export async function withVolume<T>(work: (volume: Volume, directory: string) => Promise<T> | T): Promise<T> {
  return withTemporaryDirectory(async (parent) => {
    const directory = join(parent, 'volume');
    await createVolume(directory, {});
    const volume = await openVolume(directory, { now: tickingClock() });
    try {
      return await work(volume, directory);
    } finally {
      await volume.close();
    }
  });
}

/** A root-owned directory open to everyone (0777), the usual playground of a test. */
export function sharedDirectory(volume: Volume, name = 'shared', mode = 0o777): bigint {
  const directory = volume.mkdir(ROOT, volume.rootFileId, name, { mode });
  return directory;
}

/** Creates a regular file as `caller` (UNCHECKED, with the given mode). */
export function newFile(volume: Volume, caller: Caller, directory: bigint, name: string, mode = 0o644): bigint {
  return volume.create(caller, directory, name, { mode: 'unchecked', attributes: { mode } });
}
