// A node's monotonic clock in the cluster simulation (test/sim/cluster-sim.ts): it reads
// `originMs + rate × real time`, so two nodes' clocks may drift apart (rate 1 ± ρ) and never agree
// on an origin, which is what the lease's timing argument assumes (docs/design/fencing.md, "Clock
// rates"). It belongs to the machine, not to the process: it survives a crash and keeps running
// through a pause (SIGSTOP), so a node that resumes finds it advanced by the pause. Timers are
// node-bound happenings of the simulator: they die with the process and wait out a pause.

import type { CancelTimer, InterconnectClock } from '../../src/cluster/interconnect/clock.js';

export interface ClockHost {
  /** The simulation's real time. */
  realMs(): number;
  /** Runs `run` at real time `atRealMs` as a step of this node's current process. */
  timer(atRealMs: number, run: () => void): CancelTimer;
}

export class NodeClock implements InterconnectClock {
  readonly rate: number;
  readonly originMs: number;
  readonly #host: ClockHost;
  /** Set when a timer runs, so that the clock reads at least its due time (no rounding below it). */
  #pinnedMs = Number.NEGATIVE_INFINITY;

  constructor(host: ClockHost, rate = 1, originMs = 0) {
    this.#host = host;
    this.rate = rate;
    this.originMs = originMs;
  }

  nowMs(): number {
    return Math.max(this.#pinnedMs, this.originMs + this.rate * this.#host.realMs());
  }

  after(delayMs: number, run: () => void): CancelTimer {
    const dueMs = this.nowMs() + Math.max(0, delayMs);
    return this.#host.timer(Math.max(this.#host.realMs(), this.realAt(dueMs)), () => {
      this.#pinnedMs = Math.max(this.#pinnedMs, dueMs);
      run();
    });
  }

  /** The real time at which this clock reads `localMs`. */
  realAt(localMs: number): number {
    return (localMs - this.originMs) / this.rate;
  }
}
