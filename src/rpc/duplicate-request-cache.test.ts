// Unit tests of the duplicate-request cache: the lookup states, bounds in entries and in bytes
// (oldest completed entry evicted first, in-progress entries kept), abandon, the key, and a
// snapshot that survives JSON into another cache (takeover).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DrcKey, DuplicateRequestCache, type DrcKeyParts } from './duplicate-request-cache.js';

const reply = (text: string): Buffer => Buffer.from(text);
/** A key by its text, as the mirror and a hand-off carry it. */
const k = (text: string): DrcKey => DrcKey.fromText(text);

test('duplicate-request cache: a new key is marked in progress, then replays its reply once complete', () => {
  // Goal: the three lookup states in their order.
  const cache = new DuplicateRequestCache();
  assert.deepEqual(cache.begin(k('k')), { state: 'new' });
  assert.deepEqual(cache.begin(k('k')), { state: 'in-progress' });
  cache.complete(k('k'), reply('answer'));
  assert.deepEqual(cache.begin(k('k')), { state: 'done', reply: reply('answer') });
  assert.deepEqual(cache.begin(k('k')), { state: 'done', reply: reply('answer') });
  assert.equal(cache.size, 1);
  assert.equal(cache.bytes, 6);
});

test('duplicate-request cache: bounded by entries, the oldest completed entry is evicted first', () => {
  // Goal: entriesMax holds; eviction follows completion (and replay) order.
  const cache = new DuplicateRequestCache({ entriesMax: 3 });
  for (const key of ['a', 'b', 'c', 'd']) {
    cache.begin(k(key));
    cache.complete(k(key), reply(key));
  }
  assert.equal(cache.size, 3);
  assert.equal(cache.begin(k('b')).state, 'done'); // 'b' is now the most recently used
  cache.begin(k('e'));
  cache.complete(k('e'), reply('e'));
  assert.equal(cache.size, 3);
  assert.deepEqual(
    cache.snapshot().map((entry) => entry.key),
    ['d', 'b', 'e'],
  );
  assert.equal(cache.begin(k('a')).state, 'new');
});

test('duplicate-request cache: bounded by bytes, the oldest completed replies go until it fits', () => {
  // Goal: bytesMax holds and the byte count stays exact through eviction and replacement.
  const cache = new DuplicateRequestCache({ bytesMax: 10 });
  for (const key of ['a', 'b', 'c']) {
    cache.begin(k(key));
    cache.complete(k(key), Buffer.alloc(4));
  }
  assert.equal(cache.bytes, 8);
  assert.deepEqual(cache.snapshot().map((entry) => entry.key), ['b', 'c']);
  // Completing a key twice replaces its bytes rather than adding them.
  cache.complete(k('c'), Buffer.alloc(2));
  assert.equal(cache.bytes, 6);
  cache.complete(k('d'), Buffer.alloc(9));
  assert.deepEqual(cache.snapshot().map((entry) => entry.key), ['d']);
  assert.equal(cache.bytes, 9);
});

test('duplicate-request cache: in-progress entries are never evicted', () => {
  // Goal: a call still running keeps its mark, so its retransmission is still dropped.
  const cache = new DuplicateRequestCache({ entriesMax: 2 });
  cache.begin(k('running'));
  for (const key of ['a', 'b', 'c']) {
    cache.begin(k(key));
    cache.complete(k(key), reply(key));
  }
  assert.equal(cache.begin(k('running')).state, 'in-progress');
  assert.equal(cache.size, 2);
  // With only in-progress entries the bound gives way rather than forgetting a running call.
  const busy = new DuplicateRequestCache({ entriesMax: 2 });
  for (const key of ['x', 'y', 'z']) busy.begin(k(key));
  assert.equal(busy.size, 3);
  for (const key of ['x', 'y', 'z']) assert.equal(busy.begin(k(key)).state, 'in-progress');
});

test('duplicate-request cache: abandon lets a call run again, and leaves completed entries alone', () => {
  // Goal: a dropped call's retransmission executes; abandon cannot erase an answer.
  const cache = new DuplicateRequestCache();
  cache.begin(k('k'));
  cache.abandon(k('k'));
  assert.equal(cache.begin(k('k')).state, 'new');
  cache.complete(k('k'), reply('r'));
  cache.abandon(k('k'));
  assert.equal(cache.begin(k('k')).state, 'done');
  cache.abandon(k('never-seen'));
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
    cache.begin(k(key));
    cache.complete(k(key), value);
  }
  cache.begin(k('running'));
  const restored = new DuplicateRequestCache();
  restored.restore(JSON.parse(JSON.stringify(cache.snapshot())));
  for (const [key, value] of replies) assert.deepEqual(restored.begin(k(key)), { state: 'done', reply: value });
  assert.equal(restored.begin(k('running')).state, 'new');
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
  const same = DuplicateRequestCache.key({ ...base, args: Buffer.from([1, 2, 3]) });
  assert.ok(same.equals(key));
  assert.equal(same.text, key.text);
  const variants: DrcKeyParts[] = [
    { ...base, client: '10.0.0.2' },
    { ...base, xid: 2 },
    { ...base, program: 100005 },
    { ...base, version: 2 },
    { ...base, procedure: 9 },
    { ...base, args: Buffer.from([1, 2, 4]) },
    { ...base, args: Buffer.from([1, 2, 3, 0]) },
  ];
  const others = variants.map((parts) => DuplicateRequestCache.key(parts));
  for (const other of others) assert.equal(other.equals(key), false, other.text);
  assert.equal(new Set([key, ...others].map((each) => each.text)).size, variants.length + 1);
});

test('duplicate-request cache: a reply kept by its key text replays for the retransmitted call', () => {
  // Goal: what the mirror and a hand-off carry (the text) finds the same call on the partner.
  const parts: DrcKeyParts = { client: '::ffff:10.0.0.1', xid: 0xfedcba98, program: 100003, version: 3, procedure: 8, args: Buffer.from('create me') };
  const serving = new DuplicateRequestCache();
  const mirrored: [string, Buffer][] = [];
  serving.onCompleted = (text, value) => mirrored.push([text, value]);
  serving.begin(DuplicateRequestCache.key(parts));
  serving.complete(DuplicateRequestCache.key(parts), reply('made'));
  assert.equal(mirrored.length, 1);
  const partner = new DuplicateRequestCache();
  for (const [text, value] of mirrored) partner.keep(text, value);
  assert.deepEqual(partner.begin(DuplicateRequestCache.key(parts)), { state: 'done', reply: reply('made') });
  assert.equal(partner.begin(DuplicateRequestCache.key({ ...parts, args: Buffer.from('create you') })).state, 'new');
  assert.deepEqual([...partner.entries()].map(([text]) => text), [mirrored[0]![0]]);
});

test('duplicate-request cache: calls that share an xid are told apart, evicted and abandoned one by one', () => {
  // Goal: the index's buckets (drawn from the xid) hold several calls without mixing them up.
  const cache = new DuplicateRequestCache({ entriesMax: 4 });
  const call = (client: string, xid = 42) => DuplicateRequestCache.key({ client, xid, program: 100003, version: 3, procedure: 12, args: Buffer.from(client) });
  for (const client of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) assert.equal(cache.begin(call(client)).state, 'new');
  // xids 2^30 apart share a bucket too.
  const far = call('10.0.0.1', 42 + 2 ** 30);
  assert.equal(cache.begin(far).state, 'new');
  cache.complete(call('10.0.0.2'), reply('two'));
  cache.complete(far, reply('far'));
  cache.abandon(call('10.0.0.3'));
  assert.equal(cache.size, 3);
  assert.equal(cache.begin(call('10.0.0.1')).state, 'in-progress');
  assert.deepEqual(cache.begin(call('10.0.0.2')), { state: 'done', reply: reply('two') });
  assert.deepEqual(cache.begin(far), { state: 'done', reply: reply('far') });
  assert.deepEqual(cache.begin(call('10.0.0.2')), { state: 'done', reply: reply('two') });
  assert.equal(cache.begin(call('10.0.0.3')).state, 'new');
  // Past the bound the least recently used completed call goes: 'far' (10.0.0.2 was replayed since).
  assert.equal(cache.begin(call('10.0.0.4')).state, 'new');
  assert.equal(cache.size, 4);
  assert.deepEqual([...cache.entries()].map(([text]) => text), [call('10.0.0.2').text]);
  assert.equal(cache.bytes, 3);
  // A fifth call evicts the last completed one; the running ones stay.
  assert.equal(cache.begin(far).state, 'new');
  assert.equal(cache.bytes, 0);
  assert.equal(cache.size, 4);
  assert.equal(cache.begin(call('10.0.0.1')).state, 'in-progress');
});
