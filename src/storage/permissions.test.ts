import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mayUnlinkFrom, modeAfterWrite, permits } from './permissions.js';
import type { Caller } from './types.js';

const ROOT: Caller = { uid: 0, gid: 0, gids: [] };
const OWNER: Caller = { uid: 10, gid: 20, gids: [] };
const MEMBER: Caller = { uid: 11, gid: 99, gids: [20] };
const OTHER: Caller = { uid: 12, gid: 30, gids: [] };

const file = (mode: number) => ({ type: 'reg' as const, mode, uid: 10, gid: 20 });

test('permissions: owner, group and other classes each use their own bits', () => {
  // Goal: the class is chosen by identity, and only its three bits count.
  const attributes = file(0o640);
  assert.deepEqual(permits(OWNER, attributes), { read: true, write: true, execute: false });
  assert.deepEqual(permits(MEMBER, attributes), { read: true, write: false, execute: false });
  assert.deepEqual(permits(OTHER, attributes), { read: false, write: false, execute: false });
});

test('permissions: the owner class applies even when it grants less than other', () => {
  // Goal: POSIX does not fall through to the group or other bits for the owner.
  assert.deepEqual(permits(OWNER, file(0o077)), { read: false, write: false, execute: false });
});

test('permissions: a supplementary group counts as membership', () => {
  // Goal: the gids list is consulted, not only the primary gid.
  assert.equal(permits(MEMBER, file(0o070)).write, true);
  assert.equal(permits(OTHER, file(0o070)).write, false);
});

test('permissions: root reads and writes anything but executes only with an x bit or a directory', () => {
  // Goal: uid 0 bypasses read/write; execute needs some x bit on non-directories.
  assert.deepEqual(permits(ROOT, file(0o000)), { read: true, write: true, execute: false });
  assert.equal(permits(ROOT, file(0o001)).execute, true);
  assert.equal(permits(ROOT, { type: 'dir', mode: 0o000, uid: 10, gid: 20 }).execute, true);
});

test('permissions: in a sticky directory only the file owner, the directory owner or root may unlink', () => {
  // Goal: check_sticky semantics.
  const sticky = { type: 'dir' as const, mode: 0o1777, uid: 12, gid: 30 };
  const victim = file(0o644);
  assert.equal(mayUnlinkFrom(OWNER, sticky, victim), true);
  assert.equal(mayUnlinkFrom(OTHER, sticky, victim), true, 'directory owner');
  assert.equal(mayUnlinkFrom(ROOT, sticky, victim), true);
  assert.equal(mayUnlinkFrom(MEMBER, sticky, victim), false);
  assert.equal(mayUnlinkFrom(MEMBER, { ...sticky, mode: 0o777 }, victim), true, 'not sticky');
});

test('permissions: a write by a non-root caller clears setuid, and setgid only with group execute', () => {
  // Goal: file_remove_privs semantics.
  assert.equal(modeAfterWrite(OWNER, 0o6755), 0o0755);
  assert.equal(modeAfterWrite(OWNER, 0o6745), 0o2745, 'setgid without group execute stays');
  assert.equal(modeAfterWrite(ROOT, 0o6755), 0o6755);
});
