// POSIX permission checks: who may read, write or search a file, and who may change or remove it.
// Pure functions over a `Caller` and `Attributes`, used by the volume and exported for the NFS
// layer (ACCESS, RFC 1813 3.3.4, answers with `permits`). The rules are those of the Linux VFS
// (`generic_permission`, `check_sticky`, `inode_owner_or_capable`), with uid 0 as the only
// capability holder: squashing has already happened above storage.

import type { Attributes, Caller } from './types.js';

export const MODE_SETUID = 0o4000;
export const MODE_SETGID = 0o2000;
export const MODE_STICKY = 0o1000;
export const MODE_PERMISSION_BITS = 0o7777;
const MODE_ANY_EXECUTE = 0o111;
const MODE_GROUP_EXECUTE = 0o010;

const ROOT_UID = 0;

export interface Permission {
  readonly read: boolean;
  readonly write: boolean;
  readonly execute: boolean;
}

type Owned = Pick<Attributes, 'type' | 'mode' | 'uid' | 'gid'>;

export function isRoot(caller: Caller): boolean {
  return caller.uid === ROOT_UID;
}

/** The caller's primary group or one of its supplementary groups. */
export function inGroup(caller: Caller, gid: number): boolean {
  return caller.gid === gid || caller.gids.includes(gid);
}

export function isOwner(caller: Caller, attributes: Owned): boolean {
  return caller.uid === attributes.uid;
}

/** Linux `inode_owner_or_capable`: what chmod and explicit utimes ask for. */
export function isOwnerOrRoot(caller: Caller, attributes: Owned): boolean {
  return isRoot(caller) || isOwner(caller, attributes);
}

/**
 * What the caller may do with a file. The owner class applies to the owner even when it grants
 * less than the group or other class (POSIX). Root may always read and write, and may execute
 * a directory (search) or a file with some x bit.
 */
export function permits(caller: Caller, attributes: Owned): Permission {
  if (isRoot(caller)) {
    return {
      read: true,
      write: true,
      execute: attributes.type === 'dir' || (attributes.mode & MODE_ANY_EXECUTE) !== 0,
    };
  }
  const shift = isOwner(caller, attributes) ? 6 : inGroup(caller, attributes.gid) ? 3 : 0;
  const bits = (attributes.mode >> shift) & 0o7;
  return { read: (bits & 0o4) !== 0, write: (bits & 0o2) !== 0, execute: (bits & 0o1) !== 0 };
}

/** Write and search on a directory: what creating, removing or renaming an entry needs. */
export function mayChangeEntries(caller: Caller, directory: Owned): boolean {
  const permission = permits(caller, directory);
  return permission.write && permission.execute;
}

/**
 * Linux `check_sticky`: in a directory with the sticky bit, only the file's owner, the
 * directory's owner or root may remove or rename an entry (EPERM otherwise).
 */
export function mayUnlinkFrom(caller: Caller, directory: Owned, victim: Owned): boolean {
  if ((directory.mode & MODE_STICKY) === 0) return true;
  return isRoot(caller) || isOwner(caller, victim) || isOwner(caller, directory);
}

/**
 * Linux `file_remove_privs` after a write by a non-root caller: setuid always goes, setgid only
 * with group execute (without it, setgid marks mandatory locking and stays).
 */
export function modeAfterWrite(caller: Caller, mode: number): number {
  if (isRoot(caller)) return mode;
  return stripSetIds(mode);
}

/** Clears setuid, and setgid when group execute is set (Linux `should_remove_suid`). */
export function stripSetIds(mode: number): number {
  let result = mode & ~MODE_SETUID;
  if ((result & MODE_GROUP_EXECUTE) !== 0) result &= ~MODE_SETGID;
  return result;
}
