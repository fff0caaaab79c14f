// Things changed since their last sync began, and the syncs in progress (layer: platform): the
// data files with unstable writes (storage/unstable-writes.ts) and the data folders with new
// names (storage/file-data.ts). Whoever must see a thing stable (a COMMIT) waits for a sync that
// began after the thing's last change: it starts one if the thing changed since the last began,
// and otherwise shares the one in progress. Both places once answered when they found the thing
// clean while another request's sync of it was still running, before it was stable.

export class PendingSyncs<K> {
  readonly #sync: (key: K) => Promise<void>;
  /** Changed since their last sync began, in the order first changed. */
  readonly #changed = new Set<K>();
  /** The sync of each key in progress, the latest begun. */
  readonly #running = new Map<K, Promise<void>>();

  constructor(sync: (key: K) => Promise<void>) {
    this.#sync = sync;
  }

  /** Keys changed and not yet in a sync. */
  get size(): number {
    return this.#changed.size;
  }

  /** The key changed longest ago and not yet in a sync. */
  oldest(): K | undefined {
    const first = this.#changed.values().next();
    return first.done === true ? undefined : first.value;
  }

  /** `key` changed: it needs a sync that begins after now. */
  changed(key: K): void {
    this.#changed.add(key);
  }

  /** `key` needs no sync any more (it is gone); one in progress runs on. */
  forget(key: K): void {
    this.#changed.delete(key);
  }

  /**
   * Resolves once `key` is stable as of now: starts its sync if it changed since the last one
   * began, or shares the one in progress; undefined when there is nothing to wait for. A sync
   * that fails leaves its key changed, and its waiters get the error.
   */
  synced(key: K): Promise<void> | undefined {
    if (!this.#changed.delete(key)) return this.#running.get(key);
    const syncing: Promise<void> = this.#sync(key)
      .catch((error: unknown) => {
        this.#changed.add(key);
        throw error;
      })
      .finally(() => {
        if (this.#running.get(key) === syncing) this.#running.delete(key);
      });
    this.#running.set(key, syncing);
    return syncing;
  }

  /** Every key changed or in a sync now (what a close must see stable). */
  keys(): K[] {
    return [...this.#changed, ...this.#running.keys()];
  }
}
