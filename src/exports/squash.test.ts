// Unit tests of squashCaller: how an export's client rule maps an RPC credential onto the
// identity storage sees (root_squash, all_squash, no_root_squash; AUTH_NONE is anonymous).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Credential } from '../rpc/credentials.js';
import { parseClientRule } from './client-rules.js';
import { squashCaller } from './squash.js';

const sys = (uid: number, gid: number, gids: number[]): Credential => ({ flavor: 'sys', stamp: 0, machineName: 'client', uid, gid, gids });

test('squash: root_squash maps uid 0, gid 0 and a supplementary 0 to the anonymous ids', () => {
  // Goal: root on the client is nobody on the server; other ids pass unchanged.
  const rule = parseClientRule('*(rw,anonuid=65000,anongid=65001)');
  assert.equal(rule.squash, 'root');
  assert.deepEqual(squashCaller(sys(0, 0, [0, 10, 0]), rule), { uid: 65000, gid: 65001, gids: [65001, 10, 65001] });
  assert.deepEqual(squashCaller(sys(1000, 0, [5]), rule), { uid: 1000, gid: 65001, gids: [5] });
  assert.deepEqual(squashCaller(sys(0, 100, []), rule), { uid: 65000, gid: 100, gids: [] });
  assert.deepEqual(squashCaller(sys(1000, 100, [100, 200]), rule), { uid: 1000, gid: 100, gids: [100, 200] });
});

test('squash: all_squash maps every caller to the anonymous ids with no groups', () => {
  // Goal: all_squash ignores the credential's ids entirely.
  const rule = parseClientRule('10.1.2.3(ro,all_squash,anonuid=1000,anongid=1000)');
  assert.deepEqual(squashCaller(sys(4242, 77, [1, 2, 3]), rule), { uid: 1000, gid: 1000, gids: [] });
  assert.deepEqual(squashCaller(sys(0, 0, [0]), rule), { uid: 1000, gid: 1000, gids: [] });
});

test('squash: no_root_squash passes every id through, root included', () => {
  // Goal: a trusted client's root stays root.
  const rule = parseClientRule('127.0.0.0/8(rw,no_root_squash)');
  assert.deepEqual(squashCaller(sys(0, 0, [0, 4]), rule), { uid: 0, gid: 0, gids: [0, 4] });
});

test('squash: AUTH_NONE is the anonymous caller under every rule', () => {
  // Goal: no credential means no identity, as Linux nfsd does.
  for (const spec of ['*', '*(no_root_squash)', '*(all_squash,anonuid=7,anongid=8)']) {
    const rule = parseClientRule(spec);
    assert.deepEqual(squashCaller({ flavor: 'none' }, rule), { uid: rule.anonUid, gid: rule.anonGid, gids: [] }, spec);
  }
  assert.deepEqual(squashCaller({ flavor: 'none' }, parseClientRule('*')), { uid: 65534, gid: 65534, gids: [] });
});
