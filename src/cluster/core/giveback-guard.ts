// The automatic giveback's ping-pong guard (layer: cluster/core; no I/O, no clock). The home node
// of a filer its partner serves gives it back once the partner link has been up, and this node
// healthy, for `delayMs`; a filer that keeps coming back (the home node fails again after each
// giveback, or the givebacks themselves fail) must not bounce for ever, so at most `attemptsMax`
// automatic givebacks may start within `windowMs`. The guard then trips for that filer: no more
// automatic givebacks until an operator gives it back by hand, which resets it.

export interface AutoGivebackConfig {
  /** How long the partner link must have been up, and this node healthy, before a giveback. */
  readonly delayMs: number;
  /** Automatic givebacks allowed to start within `windowMs`. */
  readonly attemptsMax: number;
  readonly windowMs: number;
}

export class GivebackGuard {
  readonly #config: AutoGivebackConfig;
  /** Start times of the automatic givebacks within the window. */
  #attempts: number[] = [];
  #tripped: string | undefined;
  /** No attempt before this: an attempt that failed waits a whole delay again. */
  #notBeforeMs = Number.NEGATIVE_INFINITY;

  constructor(config: AutoGivebackConfig) {
    this.#config = config;
  }

  get delayMs(): number {
    return this.#config.delayMs;
  }

  /** Why automatic giveback stopped for this filer, if it did. */
  get tripped(): string | undefined {
    return this.#tripped;
  }

  /**
   * Whether an automatic giveback may start at `nowMs`, given since when the link has been up and
   * the node healthy. When the attempts in the window are used up, the guard trips (once) and
   * `onTrip` is told why.
   */
  mayStart(nowMs: number, steadySinceMs: number, onTrip: (reason: string) => void): boolean {
    if (this.#tripped !== undefined) return false;
    if (nowMs - steadySinceMs < this.#config.delayMs || nowMs < this.#notBeforeMs) return false;
    this.#attempts = this.#attempts.filter((at) => nowMs - at < this.#config.windowMs);
    if (this.#attempts.length >= this.#config.attemptsMax) {
      const { attemptsMax, windowMs } = this.#config;
      this.#tripped = `automatic giveback stopped: ${attemptsMax} attempts within ${windowMs} ms (ping-pong guard); a giveback by hand resumes it`;
      onTrip(this.#tripped);
      return false;
    }
    return true;
  }

  started(nowMs: number): void {
    this.#attempts.push(nowMs);
  }

  failed(nowMs: number): void {
    this.#notBeforeMs = nowMs + this.#config.delayMs;
  }

  /** An operator gave the filer back by hand: start afresh. */
  reset(): void {
    this.#attempts = [];
    this.#tripped = undefined;
    this.#notBeforeMs = Number.NEGATIVE_INFINITY;
  }
}
