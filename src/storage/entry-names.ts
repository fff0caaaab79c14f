// Names of directory entries and targets of symbolic links: byte strings held as latin1 (see
// types.ts), checked here against the POSIX limits NAME_MAX and PATH_MAX.

import { StorageError } from './types.js';

/** NAME_MAX: the longest name, in bytes. */
export const NAME_BYTES_MAX = 255;
/** PATH_MAX: the longest symbolic-link target, in bytes. */
export const SYMLINK_TARGET_BYTES_MAX = 4096;

/** Code units a byte string may hold: one byte each, never NUL. */
function isByte(code: number): boolean {
  return code !== 0 && code <= 0xff;
}

/** 'invalid' for '', '/', NUL or a non-byte character; 'name-too-long' past NAME_BYTES_MAX. */
export function checkName(name: string): void {
  if (name.length === 0) throw new StorageError('invalid', 'a name may not be empty');
  if (name.length > NAME_BYTES_MAX) {
    throw new StorageError('name-too-long', `a name has at most ${NAME_BYTES_MAX} bytes, not ${name.length}`);
  }
  for (let index = 0; index < name.length; index += 1) {
    const code = name.charCodeAt(index);
    if (!isByte(code) || code === 0x2f) {
      throw new StorageError('invalid', "a name may not contain '/', NUL or non-byte characters");
    }
  }
}

export function checkSymlinkTarget(target: string): void {
  if (target.length === 0) throw new StorageError('invalid', 'a symbolic link needs a target');
  if (target.length > SYMLINK_TARGET_BYTES_MAX) {
    throw new StorageError('name-too-long', `a symbolic-link target has at most ${SYMLINK_TARGET_BYTES_MAX} bytes`);
  }
  for (let index = 0; index < target.length; index += 1) {
    if (!isByte(target.charCodeAt(index))) {
      throw new StorageError('invalid', 'a symbolic-link target may not contain NUL or non-byte characters');
    }
  }
}

export function isDotName(name: string): boolean {
  return name === '.' || name === '..';
}
