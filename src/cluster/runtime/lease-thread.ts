// The lease of one filer, renewed in a worker thread (layer: cluster/runtime). fencing.md,
// "Defaults, and why": a busy node's main loop can stall 70 ms and its asynchronous writes queue
// behind NFS traffic in libuv's pool, so the LeaseKeeper runs in a thread of its own
// (lease-worker.ts) that writes lease.json with blocking system calls. The main thread asks
// "may I serve now?" (fencing.md, "Serving only while valid") without a message round trip:
//
//   validity: BigInt64Array(1) over a SharedArrayBuffer
//             = validUntil in whole microseconds of CLOCK_MONOTONIC (monotonic-clock.ts), 0n: never valid
//   worker:   after each renewal that counted, compare-and-swaps it from the value it last stored
//   main:     isValid() = monotonicNowUs() < Atomics.load(validity); release() lowers it to "now"
//
// Both threads read the one process-wide monotonic clock, so the comparison needs no message and
// no agreement on time origins. A lapse leaves the value as is: time ends validity by itself.
// Messages (to the worker: release, stop; from it: valid, never-valid, expired, released,
// release-failed, log) carry only what the main thread must act on, and arrive as late as the
// main loop runs: validity never waits for them. A worker stuck in a write (a hung mailbox)
// cannot even report its lapse, so the main thread also watches: validity that ran out with no
// report within renewMs after is an expiry too (fencing.md: "it stops serving if the worker
// reports the lease lost or falls quiet").
//
// Booting a worker takes tens of milliseconds, which a takeover should not wait for: `prepare`
// boots one ahead of need, and `begin` gives it the epoch once the filer is claimed.

import assert from 'node:assert/strict';
import { basename } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../platform/logger.js';
import { monotonicNowMs, monotonicNowUs } from './monotonic-clock.js';

/** What the worker is started with (`workerData`). */
export interface LeaseWorkerData {
  readonly folder: string;
  readonly filer: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  /** The main thread's log level: lines below it are not even sent. */
  readonly logLevel: string;
  /** Shared, not copied: the BigInt64Array(1) of validity described at the top of this file. */
  readonly validity: SharedArrayBuffer;
}

export type ToLeaseWorker =
  /** Start renewing the lease of `epoch`; sinceMs: LeaseKeeper.start's (monotonic), when the claim began. */
  | { readonly type: 'begin'; readonly epoch: bigint; readonly sinceMs: number | undefined }
  | { readonly type: 'release' }
  | { readonly type: 'stop' };

/** The levels a worker forwards log lines at (pino's labels). */
export const FORWARDED_LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type ForwardedLogLevel = (typeof FORWARDED_LOG_LEVELS)[number];

export type FromLeaseWorker =
  | { readonly type: 'valid' }
  | { readonly type: 'never-valid'; readonly reason: string }
  | { readonly type: 'expired'; readonly validUntilMs: number; readonly nowMs: number; readonly sequence: string }
  | { readonly type: 'released' }
  | { readonly type: 'release-failed'; readonly reason: string }
  | { readonly type: 'log'; readonly level: ForwardedLogLevel; readonly msg: string; readonly fields: Record<string, unknown> };

/** A keeper's validUntilMs in the microseconds the validity holds, rounded down: never later than the keeper's. */
export function validityUs(validUntilMs: number): bigint {
  return BigInt(Math.floor(validUntilMs * 1000));
}

/**
 * Stores `nextUs` only if validity still holds `expectedUs` (what the caller stored last), so a
 * renewal never undoes a release the main thread made meanwhile. Returns whether it stored.
 */
export function publishValidity(validity: BigInt64Array, expectedUs: bigint, nextUs: bigint): boolean {
  return Atomics.compareExchange(validity, 0, expectedUs, nextUs) === expectedUs;
}

/** Lowers validity to `untilUs` if it is later; never raises it. */
export function shortenValidity(validity: BigInt64Array, untilUs: bigint): void {
  for (;;) {
    const current = Atomics.load(validity, 0);
    if (current <= untilUs || Atomics.compareExchange(validity, 0, current, untilUs) === current) return;
  }
}

export interface LeaseThreadOptions {
  /** The filer's mailbox folder, `<mailbox>/<filer>/` (Mailbox.folder). */
  readonly folder: string;
  readonly filer: string;
  readonly owner: string;
  readonly leaseMs: number;
  readonly renewMs: number;
  /** Receives the worker's log lines too. */
  readonly log: Logger;
}

/** What `begin` needs: the epoch claimed, and who to tell when the lease ends. */
export interface LeaseBegin {
  readonly epoch: bigint;
  /** When the claim this lease serves began (monotonicNowMs): the first write must complete within leaseMs of it. */
  readonly sinceMs?: number;
  /**
   * Called once, with a reason, when the lease expired (reported by the worker, or noticed by
   * the main thread when the worker stayed quiet renewMs past validUntil), or when the worker died
   * while the lease was held (nothing renews it then, and validity runs out by itself); not after
   * stop() or release().
   */
  readonly onExpired: (reason: string) => void;
}

/**
 * starting: until the first renewal counted; running: renewing; releasing: release() under way;
 * the rest are final (the worker exits or has exited).
 */
type ThreadState = 'prepared' | 'starting' | 'running' | 'releasing' | 'released' | 'stopped' | 'expired' | 'failed';

interface Settle {
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** The main thread's handle on a LeaseKeeper running in a worker thread (lease-worker.ts). */
export class LeaseThread {
  readonly filer: string;
  readonly #options: LeaseThreadOptions;
  readonly #validity: BigInt64Array;
  readonly #worker: Worker;
  readonly #exited: Promise<void>;
  #state: ThreadState = 'prepared';
  #settleStart: Settle | undefined;
  #onExpired: (reason: string) => void = () => undefined;
  #settleRelease: Settle | undefined;
  #workerError: Error | undefined;
  /** Why the worker exited, once it has. */
  #workerCause: string | undefined;
  /** The main thread's own check that validity did not run out unreported (a stuck worker). */
  #quietTimer: NodeJS.Timeout | undefined;

  private constructor(options: LeaseThreadOptions) {
    assert.equal(basename(options.folder), options.filer, `lease of ${options.filer} kept in the folder ${options.folder}`);
    this.filer = options.filer;
    this.#options = options;
    this.#validity = new BigInt64Array(new SharedArrayBuffer(BigInt64Array.BYTES_PER_ELEMENT));
    const workerData: LeaseWorkerData = {
      folder: options.folder,
      filer: options.filer,
      owner: options.owner,
      leaseMs: options.leaseMs,
      renewMs: options.renewMs,
      logLevel: options.log.level,
      validity: this.#validity.buffer as SharedArrayBuffer,
    };
    this.#worker = new Worker(new URL('./lease-worker.js', import.meta.url), {
      workerData,
      name: `lease ${options.filer}`,
      // The worker needs no flag of the main process's command line, and some would break it
      // (`node --input-type=module -e ...` is refused for a worker file).
      execArgv: [],
    });
    this.#worker.on('message', (message: FromLeaseWorker) => this.#received(message));
    this.#worker.on('error', (error) => {
      this.#workerError = error;
    });
    this.#exited = new Promise((resolve) => {
      this.#worker.once('exit', (code) => {
        this.#workerExited(code);
        resolve();
      });
    });
  }

  /**
   * Starts the worker; resolves once the lease is first valid; rejects with an Error saying why if
   * it never became valid (no write completed within leaseMs) or the worker failed.
   */
  static async start(options: LeaseThreadOptions & LeaseBegin): Promise<LeaseThread> {
    const thread = LeaseThread.prepare(options);
    await thread.begin(options);
    return thread;
  }

  /** Boots the worker, which waits for `begin`. stop() ends a thread that is never begun. */
  static prepare(options: LeaseThreadOptions): LeaseThread {
    return new LeaseThread(options);
  }

  /** Starts renewing the lease of `epoch`: as `start`, on a prepared thread. */
  begin(begin: LeaseBegin): Promise<void> {
    assert.equal(this.#state, 'prepared', `begin of a lease thread that is ${this.#state}`);
    this.#state = 'starting';
    this.#onExpired = begin.onExpired;
    const started = new Promise<void>((resolve, reject) => {
      this.#settleStart = { resolve, reject };
    });
    // A worker that already died while waiting (it failed to boot) fails the start now.
    if (this.#workerCause !== undefined) this.#failStart(new Error(`lease of ${this.filer}: the lease worker ${this.#workerCause} before the lease became valid`));
    else this.#post({ type: 'begin', epoch: begin.epoch, sinceMs: begin.sinceMs });
    return started;
  }

  /**
   * Whether the node may serve the filer now: one read of the clock and one of shared memory, no
   * I/O and no message (fencing.md, "Serving only while valid"). Called on every admission and
   * before every storage mutation.
   */
  isValid(): boolean {
    return monotonicNowUs() < Atomics.load(this.#validity, 0);
  }

  /** End of validity on monotonicNowMs()'s timebase (to the microsecond), or undefined if never valid. */
  get validUntilMs(): number | undefined {
    const us = Atomics.load(this.#validity, 0);
    return us === 0n ? undefined : Number(us) / 1000;
  }

  /**
   * For a node that has stopped serving the filer: ends validity now, then has the worker write
   * the record with `released: true` so the partner may claim at once. Rejects if that write failed
   * (the partner then waits out the lease), or if the lease had already expired or the worker
   * died: nothing is written then, since the partner may own the next epoch by now. The worker
   * has exited when this settles.
   */
  async release(): Promise<void> {
    if (this.#state === 'expired' || this.#state === 'failed') {
      throw new Error(`lease of ${this.filer} not released: it had already ended (${this.#state}); no record was written`);
    }
    assert.equal(this.#state, 'running', `release of a lease thread that is ${this.#state}`);
    shortenValidity(this.#validity, monotonicNowUs());
    this.#state = 'releasing';
    this.#unwatch();
    const released = new Promise<void>((resolve, reject) => {
      this.#settleRelease = { resolve, reject };
    });
    this.#post({ type: 'release' });
    try {
      await released;
    } finally {
      await this.#exited;
    }
  }

  /**
   * Stops renewing and lets the worker exit (after the write in progress, if any). Validity ends
   * when the last renewal runs out, as with LeaseKeeper.stop(). Nothing is left to keep the
   * process alive once this resolves.
   */
  async stop(): Promise<void> {
    if (this.#state === 'running' || this.#state === 'starting' || this.#state === 'prepared') {
      this.#state = 'stopped';
      this.#unwatch();
      this.#post({ type: 'stop' });
    }
    await this.#exited;
  }

  #post(message: ToLeaseWorker): void {
    this.#worker.postMessage(message);
  }

  #received(message: FromLeaseWorker): void {
    switch (message.type) {
      case 'log':
        this.#options.log[message.level](message.fields, message.msg);
        return;
      case 'valid':
        if (this.#state !== 'starting') return;
        this.#state = 'running';
        this.#settleStart?.resolve();
        this.#settleStart = undefined;
        this.#watch();
        return;
      case 'never-valid': {
        const { folder, leaseMs } = this.#options;
        this.#failStart(new Error(`lease of ${this.filer} never became valid: no write to ${folder} completed within ${leaseMs} ms (${message.reason})`));
        return;
      }
      case 'expired': {
        const lateMs = Math.round(message.nowMs - message.validUntilMs);
        this.#ended('expired', `lease of ${this.filer} expired: no renewal completed in time after sequence ${message.sequence} (noticed ${lateMs} ms after validUntil)`);
        return;
      }
      case 'released':
        this.#finishRelease(undefined);
        return;
      case 'release-failed':
        this.#finishRelease(new Error(`lease of ${this.filer} released, but the released record was not written: ${message.reason}`));
        return;
    }
  }

  #workerExited(code: number): void {
    const cause = this.#workerError === undefined ? `exited with code ${code}` : `failed: ${this.#workerError.message}`;
    this.#workerCause = cause;
    if (this.#state === 'starting') {
      this.#failStart(new Error(`lease of ${this.filer}: the lease worker ${cause} before the lease became valid`));
    } else {
      this.#ended('failed', `lease of ${this.filer}: the lease worker ${cause}; nothing renews the lease, which runs out at validUntil`);
    }
  }

  /** Checks again renewMs after the current validUntil. */
  #watch(): void {
    const delayMs = (this.validUntilMs ?? 0) + this.#options.renewMs - monotonicNowMs();
    this.#quietTimer = setTimeout(() => this.#checkQuiet(), Math.max(0, delayMs));
  }

  #unwatch(): void {
    clearTimeout(this.#quietTimer);
    this.#quietTimer = undefined;
  }

  #checkQuiet(): void {
    this.#quietTimer = undefined;
    if (this.#state !== 'running') return;
    // Renewed since the timer was armed (the usual case), or the timer ran early: look again later.
    if (monotonicNowMs() < (this.validUntilMs ?? 0) + this.#options.renewMs) {
      this.#watch();
      return;
    }
    // Terminated, it cannot finish a stuck write with a rename once the call returns, nor renew.
    void this.#worker.terminate();
    const { renewMs } = this.#options;
    this.#ended('expired', `lease of ${this.filer} ran out, and ${renewMs} ms later the lease worker had not reported it (stuck in a write?); the worker was terminated`);
  }

  #failStart(error: Error): void {
    if (this.#state !== 'starting') return;
    this.#state = 'failed';
    this.#settleStart?.reject(error);
    this.#settleStart = undefined;
  }

  /** The lease ended without release() or stop(): tell the owner once; fail a release under way. */
  #ended(state: 'expired' | 'failed', reason: string): void {
    this.#unwatch();
    if (this.#state === 'running') {
      this.#state = state;
      this.#options.log.warn({ filer: this.filer }, reason);
      this.#onExpired(reason);
    } else if (this.#state === 'releasing') {
      this.#state = state;
      this.#finishRelease(new Error(`${reason} (during release)`));
    }
  }

  #finishRelease(error: Error | undefined): void {
    const settle = this.#settleRelease;
    this.#settleRelease = undefined;
    if (this.#state === 'releasing') this.#state = 'released';
    if (error === undefined) settle?.resolve();
    else settle?.reject(error);
  }
}
