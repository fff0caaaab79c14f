// The duplicate-request mirror: batching on the serving side, epochs on the partner's side, and
// what the wire may carry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MIRROR_BATCH_BYTES_MAX, MIRROR_BATCH_MAX, MirrorSender, MirrorStore, mirrorBatchFromWire, packReplies, unpackReplies } from './reply-mirror.js';

const reply = (n: number) => ({ key: `client/${n}/100003/3/12/x`, reply: Buffer.from(`reply ${n}`) });
/** As the partner hands a reply back to a server that takes over (a hand-off snapshot). */
const snapshot = (n: number) => ({ key: reply(n).key, reply: reply(n).reply.toString('base64') });

test('reply mirror: replies are sent in batches, at once when a batch is full, and after a short wait otherwise', async () => {
  // Goal: one interconnect message per batch, and no reply waits long.
  const sent: number[] = [];
  const sender = new MirrorSender((packed) => sent.push((unpackReplies(packed, Infinity) as unknown[]).length));
  for (let n = 0; n < MIRROR_BATCH_MAX + 3; n++) sender.add(reply(n).key, reply(n).reply);
  assert.deepEqual(sent, [MIRROR_BATCH_MAX], 'a full batch leaves at once');
  const deadline = Date.now() + 5000;
  while (sent.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.deepEqual(sent, [MIRROR_BATCH_MAX, 3], 'the rest leaves after the flush delay');
  sender.add(reply(9).key, reply(9).reply);
  sender.stop();
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.deepEqual(sent, [MIRROR_BATCH_MAX, 3], 'stop() drops what was not sent');
});

test('reply mirror: a batch leaves at once when its replies reach the byte bound', () => {
  // Goal: a few large replies (WRITE verifiers are small, but a reply may be a whole record)
  // never make a batch that does not fit a frame.
  const sent: number[] = [];
  const sender = new MirrorSender((packed) => sent.push(packed.length));
  const large = Buffer.alloc(MIRROR_BATCH_BYTES_MAX / 2);
  sender.add('a', large);
  assert.deepEqual(sent, []);
  sender.add('b', large);
  assert.equal(sent.length, 1, 'sent when the bytes reached the bound');
  assert.ok(sent[0]! < 2 * MIRROR_BATCH_BYTES_MAX);
  sender.stop();
});

test('reply mirror: packed replies unpack to the same keys and bytes, each copied out of the batch', () => {
  // Goal: what the serving node packs, the partner reads back exactly.
  const replies = [reply(1), { key: '::ffff:10.0.0.1/7/100003/3/8/y', reply: Buffer.alloc(0) }, reply(300)];
  const packed = packReplies(replies);
  const unpacked = unpackReplies(packed, MIRROR_BATCH_MAX);
  assert.deepEqual(unpacked, replies);
  packed.fill(0);
  assert.deepEqual(unpacked, replies, 'the replies do not share the batch buffer');
});

test('reply mirror: the partner restores the replies of the epoch just before the one it serves at', () => {
  // Goal: replies of an older server are never replayed, and a newer epoch starts afresh.
  const store = new MirrorStore();
  store.accept(4n, [reply(1), reply(2)]);
  assert.equal(store.replaysFor(6n), undefined, 'not the previous epoch');
  assert.deepEqual(store.replaysFor(5n), [snapshot(1), snapshot(2)]);
  store.accept(3n, [reply(3)]);
  assert.deepEqual(store.replaysFor(5n), [snapshot(1), snapshot(2)], 'a late batch of an older epoch is ignored');
  store.accept(5n, [reply(4)]);
  assert.deepEqual(store.replaysFor(6n), [snapshot(4)], 'a newer epoch replaces the older one');
  store.clear();
  assert.equal(store.replaysFor(6n), undefined);
});

test('reply mirror: a batch from the wire is checked field by field and byte by byte', () => {
  // Goal: a malformed batch is refused with a reason, never half-applied.
  const packed = packReplies([reply(1), reply(2)]);
  assert.deepEqual(mirrorBatchFromWire({ filer: 'a', epoch: '7' }, packed), { filer: 'a', epoch: 7n, replies: [reply(1), reply(2)] });
  assert.match(String(mirrorBatchFromWire([], packed)), /not an object/);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: 7 }, packed)), /epoch must be strings/);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7' }, undefined)), /no packed replies/);
  const tooMany = packReplies(new Array(MIRROR_BATCH_MAX + 1).fill(reply(1)));
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7' }, tooMany)), /more than 256 replies/);
  for (let cut = 1; cut < packed.length; cut++) {
    const result = mirrorBatchFromWire({ filer: 'a', epoch: '7' }, packed.subarray(0, cut));
    // A cut that falls between two whole replies is a shorter, well-formed batch.
    if (typeof result !== 'string') assert.deepEqual(result.replies, [reply(1)], `cut at ${cut}`);
    else assert.match(result, /cut short|reply of \d+ bytes/, `cut at ${cut}`);
  }
  const emptyKey = Buffer.from(packed);
  emptyKey.writeUInt16BE(0, 0);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7' }, emptyKey)), /a key of 0 bytes/);
  const longReply = Buffer.from(packed);
  longReply.writeUInt32BE(0xffffffff, 2 + reply(1).key.length);
  assert.match(String(mirrorBatchFromWire({ filer: 'a', epoch: '7' }, longReply)), /a reply of 4294967295 bytes/);
});
