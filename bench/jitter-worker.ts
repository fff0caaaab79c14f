// The worker half of `npm run bench:jitter` (bench/jitter.ts): a 100 ms heartbeat timer on a
// worker_threads event loop, scheduled exactly as the interconnect schedules its heartbeats (a
// setTimeout re-armed from inside each firing). Each firing is posted to the main thread at once,
// so the main thread can see both how late the timer fired here and how late it heard about it.
// Optionally, every `leaseEvery` firings, a lease renewal as a worker would do it: its own
// synchronous write + fsync (no main loop, no libuv thread pool), timed.
//
// Times are this thread's performance.now(); the first message carries this thread's anchor
// (monotonic hrtime minus performance.now()) so the main thread can map them onto its own clock.

import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { parentPort, workerData } from 'node:worker_threads';

export interface WorkerJob {
  readonly intervalMs: number;
  readonly durationMs: number;
  /** A file to renew a lease in, or null for no renewals. */
  readonly leasePath: string | null;
  /** Renew every this many firings. */
  readonly leaseEvery: number;
}

export type FromWorker =
  | { readonly kind: 'anchor'; readonly anchorMs: number }
  | { readonly kind: 'fire'; readonly intended: number; readonly actual: number }
  | { readonly kind: 'lease'; readonly ms: number }
  | { readonly kind: 'done' };

/** hrtime (ms) minus performance.now(), the median of a few back-to-back reads. */
export function clockAnchorMs(): number {
  const samples: number[] = [];
  for (let i = 0; i < 7; i++) samples.push(Number(process.hrtime.bigint()) / 1e6 - performance.now());
  samples.sort((a, b) => a - b);
  return samples[3]!;
}

function main(port: NonNullable<typeof parentPort>): void {
  const job = workerData as WorkerJob;
  const post = (message: FromWorker): void => port.postMessage(message);
  post({ kind: 'anchor', anchorMs: clockAnchorMs() });

  const fd = job.leasePath === null ? null : openSync(job.leasePath, 'w');
  const end = performance.now() + job.durationMs;
  let firings = 0;
  let intended = 0;

  const arm = (): void => {
    intended = performance.now() + job.intervalMs;
    setTimeout(fire, job.intervalMs);
  };

  function fire(): void {
    const actual = performance.now();
    post({ kind: 'fire', intended, actual });
    firings++;
    const last = actual >= end;
    // Re-armed before the renewal, as a separate renewal timer would be: a slow write then
    // shows up as heartbeat lateness.
    if (!last) arm();
    if (fd !== null && firings % job.leaseEvery === 0) {
      const started = performance.now();
      const record = Buffer.from(JSON.stringify({ filer: 'bench', owner: 'bench', epoch: 1, sequence: firings, leaseMs: 1000 }) + '\n');
      writeSync(fd, record, 0, record.length, 0);
      fsyncSync(fd);
      post({ kind: 'lease', ms: performance.now() - started });
    }
    if (last) {
      if (fd !== null) closeSync(fd);
      post({ kind: 'done' });
    }
  }

  arm();
}

if (parentPort !== null) main(parentPort);
