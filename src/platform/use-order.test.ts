// Unit tests of UseOrder: the order after adds, uses and removals, from either end.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UseOrder, type UseOrderLinks } from './use-order.js';

interface Item extends UseOrderLinks<Item> {
  readonly name: string;
}

const item = (name: string): Item => ({ name, newer: undefined, older: undefined });
const names = (order: UseOrder<Item>) => [...order.fromOldest()].map((each) => each.name);

test('use order: added items are oldest first; a use moves one to the newest end; removal unlinks it', () => {
  // Goal: the order the caches evict by, through every operation and at both ends.
  const order = new UseOrder<Item>();
  assert.equal(order.oldest, undefined);
  const [a, b, c] = [item('a'), item('b'), item('c')];
  for (const each of [a, b, c]) order.add(each);
  assert.deepEqual(names(order), ['a', 'b', 'c']);
  order.use(a);
  assert.deepEqual(names(order), ['b', 'c', 'a']);
  order.use(a); // already the newest
  assert.deepEqual(names(order), ['b', 'c', 'a']);
  order.remove(c); // from the middle
  assert.deepEqual(names(order), ['b', 'a']);
  assert.deepEqual([c.newer, c.older], [undefined, undefined]);
  order.remove(b); // the oldest
  assert.equal(order.oldest, a);
  order.remove(a); // the last one
  assert.equal(order.oldest, undefined);
  assert.deepEqual(names(order), []);
  order.add(c);
  order.add(b);
  assert.deepEqual(names(order), ['c', 'b']);
  order.clear();
  assert.deepEqual(names(order), []);
});
