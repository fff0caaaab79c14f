import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PendingSyncs } from './pending-syncs.js';

/** A sync per call, each let go by hand. */
function heldSyncs(): { syncs: PendingSyncs<string>; calls: string[]; finish: (index: number, error?: Error) => void } {
  const calls: string[] = [];
  const endings: ((error?: Error) => void)[] = [];
  const syncs = new PendingSyncs<string>((key) => {
    calls.push(key);
    return new Promise<void>((resolve, reject) => endings.push((error) => (error === undefined ? resolve() : reject(error))));
  });
  return { syncs, calls, finish: (index, error) => endings[index]!(error) };
}

test('pending syncs: a waiter shares the sync in progress, and a change after it began needs another', async () => {
  // Goal: the rule both users rely on (COMMIT of a file, fsync of a data folder).
  const { syncs, calls, finish } = heldSyncs();
  assert.equal(syncs.synced('a'), undefined, 'never changed: nothing to wait for');
  syncs.changed('a');
  const first = syncs.synced('a');
  assert.equal(syncs.synced('a'), first, 'the second waiter shares it');
  syncs.changed('a');
  const second = syncs.synced('a');
  assert.notEqual(second, first);
  assert.deepEqual(calls, ['a', 'a']);
  assert.deepEqual(syncs.keys(), ['a']);
  finish(0);
  finish(1);
  await Promise.all([first, second]);
  assert.equal(syncs.synced('a'), undefined, 'done: nothing waits');
  assert.deepEqual(syncs.keys(), []);
});

test('pending syncs: a failed sync leaves its key changed and its waiters get the error; oldest and forget', async () => {
  const { syncs, calls, finish } = heldSyncs();
  syncs.changed('a');
  syncs.changed('b');
  assert.equal(syncs.oldest(), 'a');
  const failing = syncs.synced('a')!;
  assert.equal(syncs.oldest(), 'b');
  finish(0, new Error('disk'));
  await assert.rejects(failing, /disk/);
  assert.equal(syncs.size, 2, 'a is changed again');
  syncs.forget('a');
  syncs.forget('b');
  assert.equal(syncs.size, 0);
  assert.equal(syncs.oldest(), undefined);
  assert.deepEqual(calls, ['a']);
});
