// The monotonic clock shared by every thread of the process (layer: cluster/runtime). A lease
// renewed in a worker thread (lease-worker.ts) is judged valid by the main thread (lease-thread.ts)
// by comparing an instant the worker computed with "now" read on the main thread: both must be
// read on the same timebase. process.hrtime is CLOCK_MONOTONIC (libuv's uv_hrtime), one clock
// for the whole process; performance.timeOrigin + performance.now() is not, because each thread
// has its own timeOrigin, taken when the thread started (interconnect/clock.ts's systemClock).
// Monotonic: never stepped by NTP or an operator (fencing.md, "Clock rates").

import type { InterconnectClock } from '../interconnect/clock.js';

/** Milliseconds (fractional) of CLOCK_MONOTONIC: the same reading in every thread of the process. */
export function monotonicNowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Whole microseconds of CLOCK_MONOTONIC, as the lease's shared validity stores them (lease-thread.ts). */
export function monotonicNowUs(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** Node's timers on the process-wide monotonic clock. */
export const monotonicClock: InterconnectClock = {
  nowMs: monotonicNowMs,
  after(delayMs, run) {
    const timer = setTimeout(run, delayMs);
    return () => clearTimeout(timer);
  },
};
