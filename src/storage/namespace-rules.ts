// The POSIX rules of namespace operations (LOOKUP, CREATE, REMOVE, RMDIR, RENAME, LINK: RFC 1813
// 3.3.3 to 3.3.15) as checks that throw the StorageError a Linux server would answer with:
// EACCES for missing permission bits, EPERM for the sticky bit, and rename's type rules.

import type { Inode } from './metadata-store.js';
import { mayChangeEntries, mayUnlinkFrom, permits } from './permissions.js';
import { StorageError, type Caller } from './types.js';

/** The most links to one file, and subdirectories of one directory (ext4's EXT4_LINK_MAX). */
export const LINK_COUNT_MAX = 65_000;
/** A directory chain longer than this is a cycle: a broken invariant. */
const DIRECTORY_DEPTH_MAX = 10_000_000;

/** Search (x) on a directory: what looking up a name in it needs. */
export function requireSearch(caller: Caller, directory: Inode): void {
  if (!permits(caller, directory).execute) {
    throw new StorageError('access', `no search permission on directory ${directory.fileid}`);
  }
}

/** Write and search on a directory: what adding or removing an entry needs. */
export function requireEntryChanges(caller: Caller, directory: Inode): void {
  if (!mayChangeEntries(caller, directory)) {
    throw new StorageError('access', `no write and search permission on directory ${directory.fileid}`);
  }
}

/** The sticky-bit rule (Linux check_sticky: EPERM). */
export function requireUnlinkable(caller: Caller, directory: Inode, victim: Inode): void {
  if (!mayUnlinkFrom(caller, directory, victim)) {
    throw new StorageError(
      'perm',
      `sticky directory ${directory.fileid}: only the owner may remove or replace file ${victim.fileid}`,
    );
  }
}

/** POSIX rename over an existing entry: types must match, a directory only over an empty one. */
export function checkReplace(caller: Caller, to: Inode, moved: Inode, replaced: Inode, replacedIsEmpty: boolean): void {
  if (moved.type === 'dir' && replaced.type !== 'dir') {
    throw new StorageError('not-dir', `cannot replace non-directory ${replaced.fileid} with a directory`);
  }
  if (moved.type !== 'dir' && replaced.type === 'dir') {
    throw new StorageError('is-dir', `cannot replace directory ${replaced.fileid} with a non-directory`);
  }
  if (replaced.type === 'dir' && !replacedIsEmpty) {
    throw new StorageError('not-empty', `directory ${replaced.fileid} is not empty`);
  }
  requireUnlinkable(caller, to, replaced);
}

/**
 * Moving directory `moved` under another parent `to`: not into its own subtree (EINVAL), with
 * write permission on it, since its '..' changes (Linux vfs_rename), and within the link limit
 * of `to` unless it replaces a directory there. `inodeOf` walks up from `to`.
 */
export function checkReparent(
  caller: Caller,
  moved: Inode,
  to: Inode,
  replaced: Inode | undefined,
  inodeOf: (fileid: bigint) => Inode | undefined,
): void {
  if (isWithin(to, moved.fileid, inodeOf)) {
    throw new StorageError('invalid', `cannot move directory ${moved.fileid} into its own subtree`);
  }
  if (!permits(caller, moved).write) {
    throw new StorageError('access', `no write permission on directory ${moved.fileid} to move it`);
  }
  if (replaced === undefined && to.nlink >= LINK_COUNT_MAX) {
    throw new StorageError('too-many-links', `directory ${to.fileid} has ${LINK_COUNT_MAX - 2} subdirectories`);
  }
}

/** Whether `directory` is `ancestor` or below it. */
function isWithin(directory: Inode, ancestor: bigint, inodeOf: (fileid: bigint) => Inode | undefined): boolean {
  let current: Inode | undefined = directory;
  for (let depth = 0; current !== undefined; depth += 1) {
    if (depth > DIRECTORY_DEPTH_MAX) throw new Error(`volume: directory ${directory.fileid} is in a cycle`);
    if (current.fileid === ancestor) return true;
    if (current.parent === null || current.parent === current.fileid) return false;
    current = inodeOf(current.parent);
  }
  throw new Error(`volume: directory ${directory.fileid} has a missing ancestor`);
}
