// Unit tests of the duplicate-request cache: the lookup states, bounds in entries and in bytes
// (oldest completed entry evicted first, in-progress entries kept), abandon, the key, and a
// snapshot that survives JSON into another cache (takeover).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DuplicateRequestCache, type DrcKeyParts } from './duplicate-request-cache.js';

const reply = (text: string): Buffer => Buffer.from(text);

test('duplicate-request cache: a new key is marked in progress, then replays its reply once complete', () => {
  // Goal: the three lookup states in their order.
  const cache = new DuplicateRequestCache();
  assert.deepEqual(cache.begin('k'), { state: 'new' });
  assert.deepEqual(cache.begin('k'), { state: 'in-progress' });
  cache.complete('k', reply('answer'));
  assert.deepEqual(cache.begin('k'), { state: 'done', reply: reply('answer') });
  assert.deepEqual(cache.begin('k'), { state: 'done', reply: reply('answer') });
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, 6);
});

test('duplicate-request cache: bounded by entries, the oldest completed entry is evicted first', () => {
  // Goal: entriesMax holds; eviction follows completion (and replay) order.
  const cache = new DuplicateRequestCache({ entriesMax: 3 });
  for (const key of ['a', 'b', 'c', 'd']) {
    cache.begin(key);
    cache.complete(key, reply(key));
  }
  assert.equal(cache.size, 3);
  assert.equal(cache.begin('b').state, 'done'); // 'b' is now the most recently used
  cache.begin('e');
  cache.complete('e', reply('e'));
  assert.equal(cache.size, 3);
  assert.deepEqual(
    cache.snapshot().map((entry) => entry.key),
    ['d', 'b', 'e'],
  );
  assert.equal(cache.begin('a').state, 'new');
});

test('duplicate-request cache: bounded by bytes, the oldest completed replies go until it fits', () => {
  // Goal: bytesMax holds and the byte count stays exact through eviction and replacement.
  const cache = new DuplicateRequestCache({ bytesMax: 10 });
  for (const key of ['a', 'b', 'c']) {
    cache.begin(key);
    cache.complete(key, Buffer.alloc(4));
  }
  assert.equal(cache.bytes, 8);
  assert.deepEqual(cache.snapshot().map((entry) => entry.key), ['b', 'c']);
  // Completing a key twice replaces its bytes rather than adding them.
  cache.complete('c', Buffer.alloc(2));
  assert.equal(cache.bytes, 6);
  cache.complete('d', Buffer.alloc(9));
  assert.deepEqual(cache.snapshot().map((entry) => entry.key), ['d']);
  assert.equal(cache.bytes, 9);
});

test('duplicate-request cache: in-progress entries are never evicted', () => {
  // Goal: a call still running keeps its mark, so its retransmission is still dropped.
  const cache = new DuplicateRequestCache({ entriesMax: 2 });
  cache.begin('running');
  for (const key of ['a', 'b', 'c']) {
    cache.begin(key);
    cache.complete(key, reply(key));
  }
  assert.equal(cache.begin('running').state, 'in-progress');
  assert.equal(cache.size, 2);
  // With only in-progress entries the bound gives way rather than forgetting a running call.
  const busy = new DuplicateRequestCache({ entriesMax: 2 });
  for (const key of ['x', 'y', 'z']) busy.begin(key);
  assert.equal(busy.size, 3);
  for (const key of ['x', 'y', 'z']) assert.equal(busy.begin(key).state, 'in-progress');
});

test('duplicate-request cache: abandon lets a call run again, and leaves completed entries alone', () => {
  // Goal: a dropped call's retransmission executes; abandon cannot erase an answer.
  const cache = new DuplicateRequestCache();
  cache.begin('k');
  cache.abandon('k');
  assert.equal(cache.begin('k').state, 'new');
  cache.complete('k', reply('r'));
  cache.abandon('k');
  assert.equal(cache.begin('k').state, 'done');
  cache.abandon('never-seen');
  assert.equal(cache.size, 1);
});

test('duplicate-request cache: snapshot through JSON restores the same lookups in a new cache', () => {
  // Goal: takeover carries completed replies byte for byte; in-progress marks stay behind.
  const cache = new DuplicateRequestCache();
  const replies = new Map<string, Buffer>([
    ['k1', Buffer.from([0, 1, 2, 255])],
    ['k2', Buffer.alloc(0)],
    ['k3', Buffer.from('a longer reply body')],
  ]);
  for (const [key, value] of replies) {
    cache.begin(key);
    cache.complete(key, value);
  }
  cache.begin('running');
  const restored = new DuplicateRequestCache();
  restored.restore(JSON.parse(JSON.stringify(cache.snapshot())));
  for (const [key, value] of replies) assert.deepEqual(restored.begin(key), { state: 'done', reply: value });
  assert.equal(restored.begin('running').state, 'new');
  assert.equal(restored.bytes, cache.bytes);
  // Order survives too: a smaller cache restored from it keeps the newest entries.
  const small = new DuplicateRequestCache({ entriesMax: 2 });
  small.restore(cache.snapshot());
  assert.deepEqual(small.snapshot().map((entry) => entry.key), ['k2', 'k3']);
});

test('duplicate-request cache: the key changes with every part except the client port', () => {
  // Goal: an xid reused for another call is another call; the key holds no port.
  const base: DrcKeyParts = { client: '10.0.0.1', xid: 1, program: 100003, version: 3, procedure: 8, args: Buffer.from([1, 2, 3]) };
  const key = DuplicateRequestCache.key(base);
  assert.equal(DuplicateRequestCache.key({ ...base, args: Buffer.from([1, 2, 3]) }), key);
  const variants: DrcKeyParts[] = [
    { ...base, client: '10.0.0.2' },
    { ...base, xid: 2 },
    { ...base, program: 100005 },
    { ...base, version: 2 },
    { ...base, procedure: 9 },
    { ...base, args: Buffer.from([1, 2, 4]) },
    { ...base, args: Buffer.from([1, 2, 3, 0]) },
  ];
  const keys = new Set([key, ...variants.map((parts) => DuplicateRequestCache.key(parts))]);
  assert.equal(keys.size, variants.length + 1);
});
