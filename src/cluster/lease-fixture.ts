// Test support for lease.test.ts (not a test itself, and non-test code must not import it): one
// simulated real time driving clocks that drift at chosen rates, a store whose lease writes the
// test completes, fails or holds open, keeper and observer fixtures on them, and the timelines
// that replay fencing.md "The timing argument" on a drifting holder and observer.

import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../platform/logger.js';
import type { CancelTimer, InterconnectClock } from './interconnect/clock.js';
import {
  LEASE_DRIFT_RATIO_DEFAULT,
  LEASE_MS_DEFAULT,
  LEASE_RENEW_MS_DEFAULT,
  LeaseKeeper,
  LeaseObserver,
  type LeaseExpiry,
  type LeaseKeeperOptions,
  type LeaseRecord,
  type ObservedLease,
} from './lease.js';

export const FILER = 'fs1';

/** Lets every promise continuation that is ready run (setImmediate runs after the microtasks). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface SimTimer {
  readonly clock: SimClock;
  readonly dueMs: number;
  readonly order: number;
  readonly run: () => void;
  cancelled: boolean;
}

/** One simulated real time driving any number of clocks, each at its own rate. */
export class SimulatedTime {
  realMs = 0;
  readonly #timers: SimTimer[] = [];
  #order = 0;

  clock(rate = 1, originMs = 1_000_000): SimClock {
    return new SimClock(this, rate, originMs);
  }

  schedule(clock: SimClock, dueMs: number, run: () => void): CancelTimer {
    const timer: SimTimer = { clock, dueMs, order: this.#order++, run, cancelled: false };
    this.#timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  /** Runs the timers due up to `targetRealMs` in real-time order, letting promises settle after each. */
  async advanceTo(targetRealMs: number): Promise<void> {
    for (;;) {
      let next: SimTimer | undefined;
      let nextRealMs = Number.POSITIVE_INFINITY;
      for (const timer of this.#timers) {
        if (timer.cancelled) continue;
        const dueRealMs = Math.max(this.realMs, timer.clock.realAt(timer.dueMs));
        if (dueRealMs < nextRealMs || (dueRealMs === nextRealMs && timer.order < next!.order)) {
          next = timer;
          nextRealMs = dueRealMs;
        }
      }
      if (next === undefined || nextRealMs > targetRealMs) break;
      this.#timers.splice(this.#timers.indexOf(next), 1);
      this.realMs = nextRealMs;
      next.clock.pin(next.dueMs);
      next.run();
      await flush();
    }
    this.realMs = Math.max(this.realMs, targetRealMs);
    for (let i = this.#timers.length - 1; i >= 0; i--) if (this.#timers[i]!.cancelled) this.#timers.splice(i, 1);
    await flush();
  }

  advance(ms: number): Promise<void> {
    return this.advanceTo(this.realMs + ms);
  }
}

/** A monotonic clock reading `originMs + rate × real time`; a timer runs exactly at its due reading. */
export class SimClock implements InterconnectClock {
  readonly #time: SimulatedTime;
  readonly #rate: number;
  readonly #originMs: number;
  /** Set when a timer runs, so that its clock reads its due time exactly (no rounding below it). */
  #pinnedMs: number;

  constructor(time: SimulatedTime, rate: number, originMs: number) {
    this.#time = time;
    this.#rate = rate;
    this.#originMs = originMs;
    this.#pinnedMs = originMs + rate * time.realMs;
  }

  nowMs(): number {
    return Math.max(this.#pinnedMs, this.#originMs + this.#rate * this.#time.realMs);
  }

  after(delayMs: number, run: () => void): CancelTimer {
    return this.#time.schedule(this, this.nowMs() + delayMs, run);
  }

  /** The real time at which this clock reads `localMs`. */
  realAt(localMs: number): number {
    return (localMs - this.#originMs) / this.#rate;
  }

  pin(localMs: number): void {
    this.#pinnedMs = Math.max(this.#pinnedMs, localMs);
  }
}

export interface ScriptedWrite {
  readonly record: LeaseRecord;
  readonly beganMs: number;
  complete(): void;
  fail(): void;
}

/** A write for the keeper that the test completes, fails or holds open. */
export class ScriptedStore {
  readonly writes: ScriptedWrite[] = [];
  inFlight = 0;
  inFlightMax = 0;
  readonly #clock: InterconnectClock;

  constructor(clock: InterconnectClock) {
    this.#clock = clock;
  }

  readonly write = (record: LeaseRecord): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      this.inFlight += 1;
      this.inFlightMax = Math.max(this.inFlightMax, this.inFlight);
      let settled = false;
      const settle = (outcome: () => void): void => {
        assert.ok(!settled, 'a scripted write settles once');
        settled = true;
        this.inFlight -= 1;
        outcome();
      };
      this.writes.push({
        record,
        beganMs: this.#clock.nowMs(),
        complete: () => settle(resolve),
        fail: () => settle(() => reject(new Error('mailbox unreachable'))),
      });
    });

  get last(): ScriptedWrite {
    const last = this.writes.at(-1);
    assert.ok(last !== undefined, 'a write was made');
    return last;
  }

  get sequences(): bigint[] {
    return this.writes.map((write) => write.record.sequence);
  }
}

export interface KeeperFixture {
  readonly time: SimulatedTime;
  readonly clock: SimClock;
  readonly store: ScriptedStore;
  readonly keeper: LeaseKeeper;
  readonly expiries: LeaseExpiry[];
  readonly t0: number;
}

/** A keeper on simulated time; `clockOf` may bend the clock the keeper and the store see. */
export function keeperFixture(
  overrides: Partial<LeaseKeeperOptions> = {},
  clockOf: (simulated: SimClock) => InterconnectClock = (simulated) => simulated,
): KeeperFixture {
  const time = new SimulatedTime();
  const simulated = time.clock();
  const clock = clockOf(simulated);
  const store = new ScriptedStore(clock);
  const expiries: LeaseExpiry[] = [];
  const keeper = new LeaseKeeper({
    folder: join(tmpdir(), 'unused', FILER),
    filer: FILER,
    owner: 'a',
    epoch: 7n,
    clock,
    log: silentLogger(),
    write: store.write,
    onExpired: (expiry) => expiries.push(expiry),
    ...overrides,
  });
  return { time, clock: simulated, store, keeper, expiries, t0: clock.nowMs() };
}

/** Starts the keeper and completes its first write at once: valid until t0 + leaseMs. */
export async function startedKeeper(overrides: Partial<LeaseKeeperOptions> = {}): Promise<KeeperFixture> {
  const fixture = keeperFixture(overrides);
  const started = fixture.keeper.start();
  fixture.store.last.complete();
  assert.equal(await started, true);
  return fixture;
}

export function record(sequence: bigint, more: Partial<LeaseRecord> = {}): LeaseRecord {
  return { filer: FILER, owner: 'a', epoch: 7n, sequence, leaseMs: LEASE_MS_DEFAULT, ...more };
}

export async function withFolder(work: (folder: string) => Promise<void>): Promise<void> {
  const root = await mkdtemp(join(tmpdir(), 'tandem-lease-'));
  try {
    const folder = join(root, FILER);
    await mkdir(folder);
    await work(folder);
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

// --- the partner ---------------------------------------------------------------------------------

export interface ReaderFixture {
  readonly time: SimulatedTime;
  readonly clock: SimClock;
  readonly observer: LeaseObserver;
  /** What the next read returns (an Error is thrown). */
  current: LeaseRecord | Error | undefined;
  /** How long a read takes. */
  readMs: number;
}

export function observerFixture(current: LeaseRecord | Error | undefined): ReaderFixture {
  const time = new SimulatedTime();
  const clock = time.clock(1, 3_000);
  const fixture: ReaderFixture = {
    time,
    clock,
    current,
    readMs: 0,
    observer: new LeaseObserver({
      clock,
      read: () =>
        new Promise<LeaseRecord | undefined>((resolve, reject) => {
          const settle = (): void => (fixture.current instanceof Error ? reject(fixture.current) : resolve(fixture.current));
          if (fixture.readMs === 0) settle();
          else clock.after(fixture.readMs, settle);
        }),
    }),
  };
  return fixture;
}

/** Polls, letting simulated time run while the read takes its time. */
export async function poll(fixture: ReaderFixture): Promise<ObservedLease> {
  const seen = fixture.observer.poll();
  await fixture.time.advance(fixture.readMs);
  return seen;
}

// --- the timing argument ---------------------------------------------------------------------------

export type Failure = 'hang' | 'fail' | 'fail-after-rename' | 'late-700' | 'late-1500';

export interface Timeline {
  /** Real time from which the holder's writes go wrong. */
  readonly failAtMs: number;
  readonly failure: Failure;
  /** Real time of the observer's first poll; it then polls every pollEveryMs (at most renewMs) on its own clock. */
  readonly pollPhaseMs: number;
  readonly pollEveryMs: number;
  /** A read takes readMs and returns the file as it was snapshotMs after it began. */
  readonly readMs: number;
  readonly snapshotMs: number;
  /** A write renames (becomes visible) visibleMs after it began and completes writeMs after. */
  readonly visibleMs: number;
  readonly writeMs: number;
}

export const RHO = LEASE_DRIFT_RATIO_DEFAULT;

/** Runs one timeline; returns the real times at which the holder's validity ended and the observer saw 'expired'. */
export async function runTimeline(line: Timeline): Promise<{ validUntilRealMs: number; expiredRealMs: number }> {
  const time = new SimulatedTime();
  const real = time.clock(1, 0);
  const holderClock = time.clock(1 / (1 + RHO), 7_000_000); // runs 1% slow: its lease lasts longer in real time
  const observerClock = time.clock(1 + RHO, 123); // runs 1% fast: its wait is shorter in real time
  let disk: LeaseRecord | undefined;
  const write = (written: LeaseRecord): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const failing = time.realMs >= line.failAtMs;
      if (failing && line.failure === 'hang') return;
      if (failing && line.failure === 'fail') {
        real.after(line.writeMs, () => reject(new Error('mailbox unreachable')));
        return;
      }
      const lateMs = !failing ? 0 : line.failure === 'late-700' ? 700 : line.failure === 'late-1500' ? 1500 : 0;
      real.after(line.visibleMs + lateMs, () => {
        disk = written;
      });
      real.after(line.writeMs + lateMs, () => (failing && line.failure === 'fail-after-rename' ? reject(new Error('fsync')) : resolve()));
    });
  const read = (): Promise<LeaseRecord | undefined> =>
    new Promise((resolve) => {
      real.after(line.snapshotMs, () => {
        const seen = disk;
        real.after(line.readMs - line.snapshotMs, () => resolve(seen));
      });
    });
  const expiries: number[] = [];
  const keeper = new LeaseKeeper({
    folder: join(tmpdir(), 'unused', FILER),
    filer: FILER,
    owner: 'a',
    epoch: 3n,
    clock: holderClock,
    log: silentLogger(),
    write,
    onExpired: () => expiries.push(time.realMs),
  });
  const observer = new LeaseObserver({ read, clock: observerClock });
  let expiredRealMs: number | undefined;
  const tick = (): void => {
    const beganMs = observerClock.nowMs();
    void observer.poll().then((seen) => {
      if (seen.state === 'expired') expiredRealMs = time.realMs;
      else observerClock.after(Math.max(0, beganMs + line.pollEveryMs - observerClock.nowMs()), tick);
    });
  };
  real.after(line.pollPhaseMs, tick);
  void keeper.start();
  await time.advanceTo(line.failAtMs + 6000);
  assert.ok(expiredRealMs !== undefined, 'the observer saw the lease expire');
  assert.equal(expiries.length, 1);
  const validUntilRealMs = holderClock.realAt(keeper.validUntilMs!);
  assert.ok(Math.abs(expiries[0]! - validUntilRealMs) < 1e-6, 'onExpired ran at validUntil');
  return { validUntilRealMs, expiredRealMs };
}

/** Every combination of the delays at coarse phases, and the zero-delay case at every 1 ms of poll phase. */
export function timelines(): Timeline[] {
  const lines: Timeline[] = [];
  const failures: Failure[] = ['hang', 'fail', 'fail-after-rename', 'late-700', 'late-1500'];
  const reads = [{ readMs: 0, snapshotMs: 0 }, { readMs: 40, snapshotMs: 0 }, { readMs: 40, snapshotMs: 40 }];
  const writes = [{ visibleMs: 0, writeMs: 0 }, { visibleMs: 0, writeMs: 30 }, { visibleMs: 30, writeMs: 30 }];
  for (let failPhaseMs = 0; failPhaseMs < LEASE_RENEW_MS_DEFAULT; failPhaseMs += 48) {
    const failAtMs = 1000 + failPhaseMs;
    for (let pollPhaseMs = 0; pollPhaseMs < LEASE_RENEW_MS_DEFAULT; pollPhaseMs += 1) {
      if (failPhaseMs % 96 === 0) lines.push({ failAtMs, failure: 'hang', pollPhaseMs, pollEveryMs: 315, ...reads[0]!, ...writes[0]! });
      if (pollPhaseMs % 37 !== 0) continue;
      for (const failure of failures) {
        for (const pollEveryMs of [333, 315, 97]) {
          for (const read of reads) for (const write of writes) lines.push({ failAtMs, failure, pollPhaseMs, pollEveryMs, ...read, ...write });
        }
      }
    }
  }
  return lines;
}
