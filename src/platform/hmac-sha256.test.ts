// Unit tests of the JavaScript HMAC-SHA256: RFC 4231's test cases, and the same bytes as
// node:crypto for keys and messages of every length around the block boundaries.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { HmacSha256, sha256 } from './hmac-sha256.js';

test('hmac-sha256: RFC 4231 test cases 1, 2, 4 and 6 (a key longer than a block)', () => {
  // Goal: the published vectors, independent of node:crypto.
  const cases: [key: Buffer, data: Buffer, mac: string][] = [
    [Buffer.alloc(20, 0x0b), Buffer.from('Hi There'), 'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7'],
    [Buffer.from('Jefe'), Buffer.from('what do ya want for nothing?'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843'],
    [Buffer.from('0102030405060708090a0b0c0d0e0f10111213141516171819', 'hex'), Buffer.alloc(50, 0xcd), '82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b'],
    [Buffer.alloc(131, 0xaa), Buffer.from('Test Using Larger Than Block-Size Key - Hash Key First'), '60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54'],
  ];
  for (const [key, data, mac] of cases) assert.equal(new HmacSha256(key).mac(data).toString('hex'), mac);
});

test('hmac-sha256: the same bytes as node:crypto for every message length from 0 to 200', () => {
  // Goal: padding is right whether the tail fits the last block or needs another.
  for (const keyBytes of [0, 16, 32, 63, 64, 65, 100]) {
    const key = randomBytes(keyBytes);
    const hmac = new HmacSha256(key);
    for (let length = 0; length <= 200; length++) {
      const message = randomBytes(length);
      assert.deepEqual(hmac.mac(message), createHmac('sha256', key).update(message).digest(), `key ${keyBytes}, message ${length}`);
      if (keyBytes === 0) assert.deepEqual(sha256(message), createHash('sha256').update(message).digest(), `sha256 of ${length}`);
    }
  }
});

test('hmac-sha256: a mac is unaffected by the messages and keys used before it', () => {
  // Goal: the shared scratch state carries nothing from one call or one key to the next.
  const first = new HmacSha256(Buffer.from('first key'));
  const second = new HmacSha256(Buffer.from('second key'));
  const expected = createHmac('sha256', 'first key').update('abc').digest();
  assert.deepEqual(first.mac(Buffer.from('abc')), expected);
  second.mac(randomBytes(130));
  assert.deepEqual(first.mac(Buffer.from('abc')), expected);
});
