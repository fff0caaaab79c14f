// Storage I/O errors of a file server's volumes, counted (layer: server): a few in a short time
// mean storage this node cannot recover from, and the node asks its partner to take the filer
// over (negotiated takeover, docs/design/fencing.md). Reported once per server.

/** I/O errors that make the storage count as failed, within how long. */
export const STORAGE_ERRORS_FAULT = 3;
export const STORAGE_ERRORS_WINDOW_MS = 10_000;

/** Counts storage I/O errors and reports a fault once, when they come too often. */
export class StorageFaults {
  readonly #report: ((reason: string) => void) | undefined;
  #errors: number[] = [];
  #reported = false;
  readonly #now: () => number;

  constructor(report: ((reason: string) => void) | undefined, now: () => number = () => performance.now()) {
    this.#report = report;
    this.#now = now;
  }

  record(message: string): void {
    if (this.#report === undefined || this.#reported) return;
    const now = this.#now();
    this.#errors = [...this.#errors.filter((at) => now - at < STORAGE_ERRORS_WINDOW_MS), now];
    if (this.#errors.length < STORAGE_ERRORS_FAULT) return;
    this.#reported = true;
    this.#report(`${STORAGE_ERRORS_FAULT} storage I/O errors within ${STORAGE_ERRORS_WINDOW_MS} ms, the last: ${message}`);
  }
}
