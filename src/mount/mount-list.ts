// The advisory list of mounts that MOUNT DUMP reports (RFC 1813 Appendix I: "the server may
// forget"). In memory and bounded: past MOUNT_LIST_ENTRIES_MAX the oldest entries go. Layer: mount.

export const MOUNT_LIST_ENTRIES_MAX = 4096;

export class MountList {
  /** Keys "host path", in insertion order. */
  readonly #entries = new Map<string, { host: string; path: string }>();

  add(host: string, path: string): void {
    const key = `${host} ${path}`;
    this.#entries.delete(key);
    this.#entries.set(key, { host, path });
    while (this.#entries.size > MOUNT_LIST_ENTRIES_MAX) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
  }

  remove(host: string, path: string): void {
    this.#entries.delete(`${host} ${path}`);
  }

  removeHost(host: string): void {
    for (const [key, entry] of this.#entries) if (entry.host === host) this.#entries.delete(key);
  }

  list(): readonly { host: string; path: string }[] {
    return [...this.#entries.values()];
  }
}
