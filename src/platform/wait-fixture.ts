// Shared by tests that wait for background work (a lease renewal on disk, a data file's unlink):
// poll a condition with a deadline instead of sleeping for a guessed time. Layer: platform. Not
// a test itself (the name matches no test pattern).

import { setTimeout as sleep } from 'node:timers/promises';

/** Waits until `done()` holds, polling every few ms; fails the test if it does not within `deadlineMs`. */
export async function waitUntil(what: string, done: () => boolean, deadlineMs = 10_000): Promise<void> {
  const endMs = performance.now() + deadlineMs;
  while (!done()) {
    if (performance.now() >= endMs) throw new Error(`${what}: not within ${deadlineMs} ms`);
    await sleep(5);
  }
}
