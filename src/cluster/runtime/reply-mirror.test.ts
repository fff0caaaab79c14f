// The duplicate-request mirror: batching on the serving side, epochs on the partner's side, and
// what the wire may carry.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MIRROR_BATCH_BYTES_MAX,
  MIRROR_BATCH_MAX,
  MirrorSender,
  MirrorStore,
  mirrorBatchFromWire,
  mirrorStoreFromWire,
  packReplies,
  unpackReplies,
} from './reply-mirror.js';

const reply = (n: number) => ({ key: `client/${n}/100003/3/12/x`, reply: Buffer.from(`reply ${n}`) });
/** As the partner hands a reply back to a server that takes over (a hand-off snapshot). */
const snapshot = (n: number) => ({ key: reply(n).key, reply: reply(n).reply.toString('base64') });
/** A sender's `send` that records what it was given and answers as a partner whose store is `store`. */
const recording = (sent: number[], count: (packed: Buffer) => number, store = 'store-1') => async (packed: Buffer) => {
  sent.push(count(packed));
  return store;
};

test('reply mirror: replies are sent in batches, at once when a batch is full, and after a short wait otherwise', async () => {
  // Goal: one interconnect message per batch, and no reply waits long.
  const sent: number[] = [];
  const sender = new MirrorSender(recording(sent, (packed) => (unpackReplies(packed, Infinity) as unknown[]).length));
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
  const sender = new MirrorSender(recording(sent, (packed) => packed.length));
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

test('reply mirror: after a failure, the partner serves with the replies of the epoch just before the one it serves at', () => {
  // Goal: replies of an older server are never replayed, and a newer epoch starts afresh.
  const store = new MirrorStore();
  const id = store.accept(4n, [reply(1), reply(2)]);
  assert.equal(store.cacheFor(6n), undefined, 'not the previous epoch');
  assert.equal(store.accept(3n, [reply(3)]), undefined, 'a late batch of an older epoch is dropped');
  assert.deepEqual(store.cacheFor(5n)?.snapshot(), [snapshot(1), snapshot(2)]);
  assert.equal(store.cacheFor(5n), store.cacheFor(5n), 'kept, not copied, for a serve that must try again');
  const again = store.accept(5n, [reply(4)]);
  assert.notEqual(again, id, 'a new epoch is a new store');
  store.accept(6n, [reply(5)]);
  assert.deepEqual(store.cacheFor(7n)?.snapshot(), [snapshot(5)], 'a newer epoch replaces the older one');
  store.clear();
  assert.equal(store.cacheFor(7n), undefined, 'cleared once serving began');
});

test('reply mirror: a hand-off that names a store is served from that store only', () => {
  // Goal: the partner takes over exactly the cache that kept every reply; a store that changed
  // since (a restart, a new epoch) is not mistaken for it.
  const store = new MirrorStore();
  const id = store.accept(4n, [reply(1)])!;
  assert.equal(store.accept(4n, [reply(2)]), id, 'one store per epoch');
  assert.equal(store.cacheFor(9n, 'another-store'), undefined);
  assert.deepEqual(store.cacheFor(9n, id)?.snapshot(), [snapshot(1), snapshot(2)], 'named, whatever the epochs between');
  store.clear();
  assert.equal(store.cacheFor(9n, id), undefined, 'a cleared store is no longer the one named');
  assert.equal(mirrorStoreFromWire({ store: id }), id);
  for (const answer of [null, {}, { store: 7 }, { store: '' }, [id], { store: 'x'.repeat(65) }]) assert.equal(mirrorStoreFromWire(answer), undefined);
});

test('reply mirror: settle names the store only when every batch reached that one store in time', async () => {
  // Goal: a hand-off leaves the cache out only when the partner holds all of it.
  const replyN = (sender: MirrorSender, n: number) => sender.add(reply(n).key, reply(n).reply);
  const answering = (answers: (string | undefined)[]) => new MirrorSender(async () => answers.shift());
  const whole = answering(['s', 's']);
  replyN(whole, 1);
  whole.flush();
  replyN(whole, 2);
  assert.equal(await whole.settle(1000), 's', 'the last batch is sent by settle and answered');
  assert.equal(await answering([]).settle(1000), undefined, 'nothing was sent: no store holds anything');
  const lost = answering([undefined, 's']);
  replyN(lost, 1);
  lost.flush();
  replyN(lost, 2);
  assert.equal(await lost.settle(1000), undefined, 'a batch not delivered');
  const changed = answering(['s', 't']);
  replyN(changed, 1);
  changed.flush();
  replyN(changed, 2);
  assert.equal(await changed.settle(1000), undefined, 'the partner restarted in between');
  const failing = new MirrorSender(() => Promise.reject(new Error('interconnect down')));
  replyN(failing, 1);
  assert.equal(await failing.settle(1000), undefined, 'a send that failed');
  const silent = new MirrorSender(() => new Promise<string | undefined>(() => undefined));
  replyN(silent, 1);
  const started = Date.now();
  assert.equal(await silent.settle(50), undefined, 'an unanswered batch');
  assert.ok(Date.now() - started < 1000, 'settle gives up at its deadline');
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

test('reply mirror: resend sends the replies a server starts with a batch a turn, and settle waits for all of them', async () => {
  // Goal: after a takeover the partner's new store gets every reply served with, without one
  // long stall of the event loop, and no hand-off names the store before it has them all.
  const batches: number[] = [];
  const sender = new MirrorSender(async (packed) => {
    batches.push((unpackReplies(packed, Infinity) as unknown[]).length);
    return 's';
  });
  const replies = Array.from({ length: 2 * MIRROR_BATCH_MAX + 5 }, (_, n) => reply(n));
  sender.resend(replies);
  assert.deepEqual(batches, [], 'nothing is sent in the caller\'s turn');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(batches, [MIRROR_BATCH_MAX], 'one batch a turn');
  assert.equal(await sender.settle(1000), 's');
  assert.deepEqual(batches, [MIRROR_BATCH_MAX, MIRROR_BATCH_MAX, 5], 'settled once all were sent and answered');

  const stopped = new MirrorSender(async () => 's');
  stopped.resend(replies);
  stopped.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.equal(await stopped.settle(1000), undefined, 'stopped before sending: no store holds them');
});
