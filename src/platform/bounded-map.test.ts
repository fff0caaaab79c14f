import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BoundedMap } from './bounded-map.js';

test('bounded map: holds what was set, replaces in place, and forgets what was deleted', () => {
  const map = new BoundedMap<string, number>(8);
  map.set('a', 1);
  map.set('a', 2);
  map.set('b', 3);
  assert.equal(map.get('a'), 2);
  assert.equal(map.size, 2);
  map.delete('a');
  map.delete('never');
  assert.equal(map.get('a'), undefined);
  assert.equal(map.has('a'), false);
  assert.equal(map.size, 1);
  map.set('a', 4);
  assert.equal(map.get('a'), 4, 'a deleted key can be set again');
  assert.equal(map.size, 2);
  map.clear();
  assert.equal(map.size, 0);
  assert.equal(map.get('b'), undefined);
  map.set('c', 5);
  assert.equal(map.get('c'), 5, 'usable after clear');
});

test('bounded map: never more than its capacity; the least recently used goes, and onEvict is told', () => {
  const evicted: string[] = [];
  const map = new BoundedMap<string, number>(3, (key, value) => evicted.push(`${key}=${value}`));
  map.set('a', 1);
  map.set('b', 2);
  map.set('c', 3);
  assert.equal(map.get('a'), 1, 'a is now the most recently used');
  map.set('b', 20); // and now b
  map.set('d', 4);
  assert.deepEqual(evicted, ['c=3']);
  map.set('e', 5);
  assert.deepEqual(evicted, ['c=3', 'a=1']);
  assert.equal(map.size, 3);
  assert.deepEqual(['b', 'd', 'e'].map((key) => map.get(key)), [20, 4, 5]);
  map.delete('b');
  map.set('f', 6);
  assert.deepEqual(evicted, ['c=3', 'a=1'], 'a delete made room: nothing evicted, and deleted entries are not told of');
  for (let index = 0; index < 1000; index++) map.set(`k${index}`, index);
  assert.equal(map.size, 3);
  assert.deepEqual(['k997', 'k998', 'k999'].map((key) => map.get(key)), [997, 998, 999]);
});

test('bounded map: the newest and the oldest entry can be deleted and used again, down to a capacity of 1', () => {
  const map = new BoundedMap<string, number>(1);
  map.set('a', 1);
  map.set('b', 2);
  assert.deepEqual([map.get('a'), map.get('b'), map.size], [undefined, 2, 1]);
  map.delete('b');
  map.set('c', 3);
  assert.deepEqual([map.get('c'), map.size], [3, 1]);
  const three = new BoundedMap<string, number>(3);
  for (const key of ['x', 'y', 'z']) three.set(key, key.charCodeAt(0));
  three.delete('z'); // the newest
  three.delete('x'); // the oldest
  three.set('w', 1);
  three.set('v', 2);
  three.set('u', 3); // evicts y, the oldest left
  assert.deepEqual(['y', 'w', 'v', 'u'].map((key) => three.get(key)), [undefined, 1, 2, 3]);
});

test('bounded map: entries() lists from the least to the most recently used; evictOldest drops the first of them', () => {
  const evicted: string[] = [];
  const map = new BoundedMap<string, number>(5, (key) => evicted.push(key));
  for (const [index, key] of ['a', 'b', 'c'].entries()) map.set(key, index);
  map.get('a');
  assert.deepEqual([...map.entries()], [['b', 1], ['c', 2], ['a', 0]]);
  assert.equal(map.evictOldest(), true);
  assert.deepEqual(evicted, ['b']);
  assert.deepEqual([...map.entries()].map(([key]) => key), ['c', 'a']);
  map.clear();
  assert.equal(map.evictOldest(), false, 'nothing to evict');
});

test('bounded map: a capacity below 1 is refused', () => {
  assert.throws(() => new BoundedMap(0), RangeError);
  assert.throws(() => new BoundedMap(2.5), RangeError);
});
