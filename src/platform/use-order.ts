// Things in their order of use, linked through themselves (layer: platform): making one the most
// recently used, taking one out and finding the least recently used each cost O(1), with no
// allocation. The caches' order: BoundedMap's entries, the duplicate-request cache's replies.

/** What a UseOrder links: the two links are the order's, kept in the thing itself. */
export interface UseOrderLinks<T> {
  /** Toward the most recently used end. */
  newer: T | undefined;
  /** Toward the least recently used end. */
  older: T | undefined;
}

export class UseOrder<T extends UseOrderLinks<T>> {
  #newest: T | undefined;
  #oldest: T | undefined;

  get oldest(): T | undefined {
    return this.#oldest;
  }

  /** Adds `item`, which is not in the order, as the most recently used. */
  add(item: T): void {
    item.older = this.#newest;
    item.newer = undefined;
    if (this.#newest === undefined) this.#oldest = item;
    else this.#newest.newer = item;
    this.#newest = item;
  }

  /** Makes `item`, which is in the order, the most recently used. */
  use(item: T): void {
    if (item === this.#newest) return;
    this.remove(item);
    this.add(item);
  }

  /** Takes `item`, which is in the order, out of it. */
  remove(item: T): void {
    if (item.newer === undefined) this.#newest = item.older;
    else item.newer.older = item.older;
    if (item.older === undefined) this.#oldest = item.newer;
    else item.older.newer = item.newer;
    item.newer = undefined;
    item.older = undefined;
  }

  clear(): void {
    this.#newest = undefined;
    this.#oldest = undefined;
  }

  /** From the least to the most recently used. */
  *fromOldest(): IterableIterator<T> {
    for (let item = this.#oldest; item !== undefined; item = item.newer) yield item;
  }
}
