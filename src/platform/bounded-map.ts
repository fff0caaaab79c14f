// A map for caches that holds at most `capacity` entries and drops the least recently used one
// to make room (layer: platform). A Map finds the entries; a doubly linked list through them keeps
// their order of use (use-order.ts), so a lookup, an insertion and an eviction each cost O(1).
//
// Why not a plain Map kept in order of use by delete-then-set, evicting `keys().next()`: V8 keeps
// a deleted entry as a hole until the table is rebuilt. A key deleted and set again grows its own
// hash chain, so its lookups walk the holes (36 us a lookup of a directory every CREATE touched,
// at 32,768 entries), and `keys().next()` walks every hole at the front (9.6 us an eviction at
// 32,768 entries). Here the Map only ever loses the key being evicted or deleted.

import { UseOrder, type UseOrderLinks } from './use-order.js';

interface Node<K, V> extends UseOrderLinks<Node<K, V>> {
  readonly key: K;
  value: V;
}

export class BoundedMap<K, V> {
  readonly #capacity: number;
  readonly #onEvict: ((key: K, value: V) => void) | undefined;
  readonly #nodes = new Map<K, Node<K, V>>();
  readonly #order = new UseOrder<Node<K, V>>();

  /** `onEvict` is told of each entry dropped to make room (not of deleted ones). */
  constructor(capacity: number, onEvict?: (key: K, value: V) => void) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`a bounded map holds at least 1 entry, not ${capacity}`);
    this.#capacity = capacity;
    this.#onEvict = onEvict;
  }

  get size(): number {
    return this.#nodes.size;
  }

  /** The value of `key`, which becomes the most recently used. */
  get(key: K): V | undefined {
    const node = this.#nodes.get(key);
    if (node === undefined) return undefined;
    this.#order.use(node);
    return node.value;
  }

  has(key: K): boolean {
    return this.#nodes.has(key);
  }

  /** Sets `key`, the most recently used; past the capacity, the least recently used goes. */
  set(key: K, value: V): void {
    const node = this.#nodes.get(key);
    if (node !== undefined) {
      node.value = value;
      this.#order.use(node);
      return;
    }
    const added: Node<K, V> = { key, value, newer: undefined, older: undefined };
    this.#order.add(added);
    this.#nodes.set(key, added);
    if (this.#nodes.size > this.#capacity) this.evictOldest();
  }

  /** Drops the least recently used entry (onEvict is told); false if there was none. */
  evictOldest(): boolean {
    const evicted = this.#order.oldest;
    if (evicted === undefined) return false;
    this.#order.remove(evicted);
    this.#nodes.delete(evicted.key);
    this.#onEvict?.(evicted.key, evicted.value);
    return true;
  }

  /** The entries from the least to the most recently used (using them does not reorder). */
  *entries(): IterableIterator<[K, V]> {
    for (const node of this.#order.fromOldest()) yield [node.key, node.value];
  }

  delete(key: K): void {
    const node = this.#nodes.get(key);
    if (node === undefined) return;
    this.#order.remove(node);
    this.#nodes.delete(key);
  }

  clear(): void {
    this.#nodes.clear();
    this.#order.clear();
  }
}
