// Tests of the admin token: derived from the secret as documented, and matched only in the
// exact `Bearer <token>` form.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import { adminToken, bearerMatches } from './admin-token.js';

test('admin token: is the hex HMAC-SHA256 of "tandem-admin-v1" under the cluster secret', () => {
  // Goal: any tool holding the secret can derive the token the nodes expect.
  const secret = Buffer.from('s'.repeat(32));
  assert.equal(adminToken(secret), createHmac('sha256', secret).update('tandem-admin-v1').digest('hex'));
  assert.match(adminToken(secret), /^[0-9a-f]{64}$/);
  assert.notEqual(adminToken(secret), adminToken(Buffer.from('t'.repeat(32))));
});

test('admin token: only "Bearer <token>" matches; other schemes, other tokens and extra text do not', () => {
  // Goal: the header check accepts the one documented form and nothing near it.
  const token = adminToken(Buffer.from('s'.repeat(32)));
  assert.equal(bearerMatches(`Bearer ${token}`, token), true);
  assert.equal(bearerMatches(`bearer ${token}`, token), true, 'RFC 7235: the scheme is case-insensitive');
  for (const header of [undefined, '', token, `Basic ${token}`, `Bearer ${token.toUpperCase()}`, `Bearer ${token} x`, `Bearer  ${token}`, `Bearer ${token.slice(1)}`, 'Bearer ']) {
    assert.equal(bearerMatches(header, token), false, `header ${JSON.stringify(header)}`);
  }
});
