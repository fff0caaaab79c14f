// The clock and timers of the interconnect, behind a small interface so tests can drive time by
// hand (heartbeats, the peer watchdog, handshake deadlines, reconnect backoff) instead of
// sleeping. Layer: cluster/interconnect.

/** Cancels a timer; calling it after the timer ran, or twice, does nothing. */
export type CancelTimer = () => void;

export interface InterconnectClock {
  /** Milliseconds on a clock that never steps backwards (differences decide timeouts). */
  nowMs(): number;
  /** Runs `run` once, `delayMs` from now. */
  after(delayMs: number, run: () => void): CancelTimer;
}

/**
 * Node's timers, and a clock that reads like Unix milliseconds but follows the monotonic clock
 * (performance.timeOrigin + performance.now()): a wall-clock step by NTP can neither declare a
 * live peer down nor keep a dead one up.
 */
export const systemClock: InterconnectClock = {
  nowMs: () => performance.timeOrigin + performance.now(),
  after(delayMs, run) {
    const timer = setTimeout(run, delayMs);
    return () => clearTimeout(timer);
  },
};
