// The duplicate-request mirror: batching on the serving side, epochs on the partner's side, and
// what the wire may carry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIRROR_BATCH_MAX, MirrorSender, MirrorStore, mirrorBatchFromWire } from './reply-mirror.js';

const entry = (n: number) => ({ key: `client/${n}/100003/3/12/x`, reply: Buffer.from(`reply ${n}`).toString('base64') });

test('reply mirror: replies are sent in batches, at once when a batch is full, and after a short wait otherwise', async () => {
  // Goal: one interconnect message per batch, and no reply waits long.
  const sent: number[] = [];
  const sender = new MirrorSender((entries) => sent.push(entries.length));
  for (let n = 0; n < MIRROR_BATCH_MAX + 3; n++) sender.add(entry(n));
  assert.deepEqual(sent, [MIRROR_BATCH_MAX], 'a full batch leaves at once');
  const deadline = Date.now() + 5000;
  while (sent.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sent, [MIRROR_BATCH_MAX, 3], 'the rest leaves after the flush delay');
  sender.add(entry(9));
  sender.stop();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(sent, [MIRROR_BATCH_MAX, 3], 'stop() drops what was not sent');
});

test('reply mirror: the partner restores the replies of the epoch just before the one it serves at', () => {
  // Goal: replies of an older server are never replayed, and a newer epoch starts afresh.
  const store = new MirrorStore();
  store.accept(4n, [entry(1), entry(2)]);
  assert.equal(store.replaysFor(6n), undefined, 'not the previous epoch');
  assert.deepEqual(store.replaysFor(5n), [entry(1), entry(2)]);
  store.accept(3n, [entry(3)]);
  assert.deepEqual(store.replaysFor(5n), [entry(1), entry(2)], 'a late batch of an older epoch is ignored');
  store.accept(5n, [entry(4)]);
  assert.deepEqual(store.replaysFor(6n), [entry(4)], 'a newer epoch replaces the older one');
  store.clear();
  assert.equal(store.replaysFor(6n), undefined);
});

test('reply mirror: a batch from the wire is checked field by field', () => {
  // Goal: a malformed batch is refused with a reason, never half-applied.
  assert.deepEqual(mirrorBatchFromWire({ filer: 'a', epoch: '7', entries: [entry(1)] }), { filer: 'a', epoch: 7n, entries: [entry(1)] });
  assert.match(String(mirrorBatchFromWire([])), /not an object/);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: 7, entries: [] })), /epoch must be strings/);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7', entries: [{ key: 1, reply: 'x' }] })), /not \{key, reply\}/);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7', entries: new Array(MIRROR_BATCH_MAX + 1).fill(entry(1)) })), /at most/);
});
