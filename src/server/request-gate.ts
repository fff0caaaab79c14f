// The request gate in front of a volume: serving, draining or stopped. Layer: server.
//
// - serving: requests are admitted and counted while in progress;
// - draining: new requests are refused (the protocol layer drops them: neither executed nor
//   answered, so the client retransmits, and after a takeover the retransmission reaches the
//   partner); requests in progress complete and are answered; `drain()` resolves when the last
//   one is done, or when its deadline passes (it then says how many were still running);
// - stopped: everything is refused until `resume()`.
// This is step 3 of the takeover in DESIGN.md; the takeover issue drives it.
// A gate may also be given `mayServe` (the lease's validity, docs/design/fencing.md): while it
// says no, nothing is admitted, whatever the state.

import type { Gate } from '../exports/export-table.js';

export type GateState = 'serving' | 'draining' | 'stopped';

export interface DrainResult {
  /** True when every request in progress completed before the deadline. */
  readonly drained: boolean;
  /** Requests still in progress when drain() resolved. */
  readonly inProgress: number;
}

export class RequestGate implements Gate {
  readonly #mayServe: () => boolean;
  #state: GateState = 'serving';
  #inProgress = 0;
  #waiters: (() => void)[] = [];

  constructor(mayServe: () => boolean = () => true) {
    this.#mayServe = mayServe;
  }

  get state(): GateState {
    return this.#state;
  }

  get inProgress(): number {
    return this.#inProgress;
  }

  tryEnter(): boolean {
    if (this.#state !== 'serving' || !this.#mayServe()) return false;
    this.#inProgress++;
    return true;
  }

  leave(): void {
    if (this.#inProgress === 0) throw new Error('RequestGate.leave() without a matching tryEnter()');
    this.#inProgress--;
    if (this.#inProgress === 0) for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Refuses new requests and waits (up to `deadlineMs`) for those in progress. */
  async drain(deadlineMs: number): Promise<DrainResult> {
    if (this.#state === 'serving') this.#state = 'draining';
    if (this.#inProgress > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        timer = setTimeout(resolve, deadlineMs);
      });
      clearTimeout(timer);
    }
    return { drained: this.#inProgress === 0, inProgress: this.#inProgress };
  }

  /** Refuses everything; requests still in progress may finish but nothing new starts. */
  stop(): void {
    this.#state = 'stopped';
  }

  resume(): void {
    this.#state = 'serving';
  }
}
