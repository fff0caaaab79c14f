// The worker-thread entry of a filer's lease (layer: cluster/runtime), started by LeaseThread
// (lease-thread.ts, which describes the shared validity and the messages). It runs one
// LeaseKeeper on the process-wide monotonic clock and renews with blocking writes (writeLeaseSync)
// in this thread: a renewal then waits neither for the main event loop nor for libuv's shared
// pool (fencing.md, "Defaults, and why"). It boots ahead of need and starts the keeper at the
// `begin` message, which names the epoch. After each renewal that counts it publishes validUntil
// in shared memory; log lines go to the main thread's logger as messages. The thread exits (its
// port closed, no timer left) once the lease has expired, never became valid, was released or
// was stopped.

import { type MessagePort, parentPort, workerData } from 'node:worker_threads';
import pino from 'pino';
import { LeaseKeeper, writeLeaseSync } from '../lease.js';
import {
  FORWARDED_LOG_LEVELS,
  type ForwardedLogLevel,
  type FromLeaseWorker,
  type LeaseWorkerData,
  publishValidity,
  type ToLeaseWorker,
  validityUs,
} from './lease-thread.js';
import { monotonicClock } from './monotonic-clock.js';

function run(port: MessagePort, data: LeaseWorkerData): void {
  let keeper: LeaseKeeper | undefined;
  let closed = false;
  const close = (): void => {
    closed = true;
    port.close();
  };
  port.on('message', (message: ToLeaseWorker) => {
    if (closed) return;
    switch (message.type) {
      case 'begin':
        if (keeper === undefined) keeper = begin(port, data, message.epoch, message.sinceMs, () => closed, close);
        return;
      case 'stop':
        keeper?.stop();
        close();
        return;
      case 'release':
        if (keeper === undefined) return close();
        keeper.release().then(
          () => port.postMessage({ type: 'released' } satisfies FromLeaseWorker),
          (error: unknown) => port.postMessage({ type: 'release-failed', reason: reasonOf(error) } satisfies FromLeaseWorker),
        ).finally(close);
        return;
    }
  });
}

/** Starts the keeper of `epoch`; returns it. */
function begin(port: MessagePort, data: LeaseWorkerData, epoch: bigint, sinceMs: number | undefined, isClosed: () => boolean, close: () => void): LeaseKeeper {
  const validity = new BigInt64Array(data.validity);
  let published = 0n;
  let lastFailure = 'no write was attempted';
  // Messages already posted are delivered before the main thread sees this thread exit.
  const post = (message: FromLeaseWorker): void => {
    if (!isClosed()) port.postMessage(message);
  };
  const keeper = new LeaseKeeper({
    folder: data.folder,
    filer: data.filer,
    owner: data.owner,
    epoch,
    leaseMs: data.leaseMs,
    renewMs: data.renewMs,
    clock: monotonicClock,
    log: pino({ level: data.logLevel, base: null, timestamp: false }, { write: (line: string) => forwardLog(line, post) }),
    // Asynchronous only in form: the keeper dates the write before this runs, in this thread.
    write: (record) =>
      Promise.resolve().then(() => {
        try {
          writeLeaseSync(data.folder, record);
        } catch (error) {
          lastFailure = reasonOf(error);
          throw error;
        }
      }),
    onRenewed: (validUntilMs) => {
      const next = validityUs(validUntilMs);
      // Refused only after the main thread lowered validity for a release: keep its value.
      if (publishValidity(validity, published, next)) published = next;
    },
    onExpired: ({ validUntilMs, nowMs, sequence }) => {
      post({ type: 'expired', validUntilMs, nowMs, sequence: sequence.toString() });
      close();
    },
  });
  void keeper.start(sinceMs).then((valid) => {
    if (valid) {
      post({ type: 'valid' });
    } else {
      post({ type: 'never-valid', reason: lastFailure });
      close();
    }
  });
  return keeper;
}

/** One pino line (JSON) as a message for the main thread's logger. */
function forwardLog(line: string, post: (message: FromLeaseWorker) => void): void {
  const { level, msg, ...fields } = JSON.parse(line) as Record<string, unknown>;
  const label = typeof level === 'number' ? pino.levels.labels[level] : undefined;
  post({ type: 'log', level: isForwardedLevel(label) ? label : 'warn', msg: String(msg), fields });
}

function isForwardedLevel(label: string | undefined): label is ForwardedLogLevel {
  return (FORWARDED_LOG_LEVELS as readonly (string | undefined)[]).includes(label);
}

function reasonOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

// Started by LeaseThread only: the data is what lease-thread.ts put there.
if (parentPort !== null) run(parentPort, workerData as LeaseWorkerData);
