// The lease of a filer (layer: cluster): the disk channel of failure detection, and what lets the
// node serving a filer keep serving it (docs/design/fencing.md, "The lease", "The partner's side"
// and "The timing argument"). The rule: the holder serves only before `validUntil` = start of its
// last renewal that completed in time + leaseMs on its own monotonic clock, and the partner
// claims only once the lease's sequence has not changed for leaseMs × (1 + ρ) + marginMs on ITS
// own monotonic clock since it first saw it; the two clocks are never compared.
//
//   <mailbox>/<filer>/lease.json   { filer, owner, epoch: "N", sequence: "S", leaseMs[, released: true] }
//
// replaced atomically (atomic-file.ts) by the holder every renewMs. The record carries no time:
// only the change of `sequence` tells the partner the holder is alive.
//
// Two refinements of fencing.md, both needed by the timing argument (lease.test.ts replays it):
// - A renewal counts only if it COMPLETES before the lease it renews has lapsed. A write that hangs
//   past validUntil and then completes may have completed after the partner's last read: letting
//   it extend the lease would let both nodes serve. So a lapse is final: the keeper stops renewing
//   (otherwise the partner, seeing fresh sequences, would never claim, and nobody would serve),
//   reports onExpired, and the node must acquire the filer again (a new claim, a new keeper). A
//   renewal due after the lapse (a stall past validUntil, the renewal timer running first) is
//   not even begun: by then the partner may be writing this file for the next epoch.
// - The observer dates a sequence it sees for the first time by the END of that read (the write
//   it shows began no later), and judges expiry by the START of each read (the file was still
//   unchanged at some instant after that): a slow read can only delay the partner's claim.

import assert from 'node:assert/strict';
import { basename, join } from 'node:path';
import type { Logger } from '../platform/logger.js';
import { readBounded, replaceAtomically, replaceAtomicallySync } from './atomic-file.js';
import type { CancelTimer, InterconnectClock } from './interconnect/clock.js';
import { EPOCH_MAX, MailboxError, NAME_BYTES_MAX } from './mailbox.js';

/** fencing.md, "Defaults": the failure-detection time. */
export const LEASE_MS_DEFAULT = 1000;
/** A third of LEASE_MS_DEFAULT: two renewals may fail before the lease lapses. */
export const LEASE_RENEW_MS_DEFAULT = 333;
/** At least stopGraceMs (200) + 2ρ·leaseMs (20); fencing.md, "The timing argument". */
export const LEASE_MARGIN_MS_DEFAULT = 250;
/** ρ: the most a monotonic clock is assumed to drift from real time (fencing.md, "Clock rates"). */
export const LEASE_DRIFT_RATIO_DEFAULT = 0.01;
/** Largest lease.json read or written: five short fields and two names of at most NAME_BYTES_MAX. */
export const LEASE_BYTES_MAX = 4096;
/** Longest lease a record may state: a longer one would keep the partner waiting for minutes. */
export const LEASE_MS_MAX = 60_000;
/** Highest sequence: an unsigned 64-bit number, like the epoch (never reached at 3 renewals/s). */
export const LEASE_SEQUENCE_MAX = EPOCH_MAX;

export const LEASE_FILE = 'lease.json';

const DECIMAL = /^(0|[1-9][0-9]*)$/;
const DECIMAL_DIGITS_MAX = EPOCH_MAX.toString().length;

/** lease.json. The record says who holds which epoch and how often it was renewed; it holds no time. */
export interface LeaseRecord {
  readonly filer: string;
  readonly owner: string;
  readonly epoch: bigint;
  /** 1 at the first write of a keeper, one more at every write attempted since. */
  readonly sequence: bigint;
  /** The holder's leaseMs: the partner waits out the longer of this and its own. */
  readonly leaseMs: number;
  /** Written once, by release(): the holder stopped serving, and the partner may claim at once. */
  readonly released?: true;
}

/** Path of the lease in the mailbox folder of one filer (`<mailbox>/<filer>/`, Mailbox.folder). */
export function leasePath(folder: string): string {
  return join(folder, LEASE_FILE);
}

/** Replaces the lease in `folder` (`<mailbox>/<record.filer>/`) atomically and durably. */
export async function writeLease(folder: string, record: LeaseRecord): Promise<void> {
  const contents = encodeLease(folder, record);
  const path = leasePath(folder);
  await io('write lease', path, () => replaceAtomically(path, contents));
}

/**
 * writeLease with blocking system calls, for a keeper running in a worker thread (lease-worker.ts):
 * its renewals then wait for no event loop and no libuv pool (fencing.md, "Defaults, and why").
 */
export function writeLeaseSync(folder: string, record: LeaseRecord): void {
  const contents = encodeLease(folder, record);
  const path = leasePath(folder);
  ioSync('write lease', path, () => replaceAtomicallySync(path, contents));
}

/** The bytes of lease.json for `record`, after checking the record and that `folder` is its filer's. */
function encodeLease(folder: string, record: LeaseRecord): Buffer {
  assertRecord(record);
  assert.equal(basename(folder), record.filer, `lease of ${record.filer} written to the folder ${folder}`);
  const value: Record<string, unknown> = {
    filer: record.filer,
    owner: record.owner,
    epoch: record.epoch.toString(),
    sequence: record.sequence.toString(),
    leaseMs: record.leaseMs,
  };
  if (record.released === true) value['released'] = true;
  const contents = Buffer.from(`${JSON.stringify(value, null, 2)}\n`);
  // Never write what could not be read back: the limit binds the writer too.
  assert.ok(contents.length <= LEASE_BYTES_MAX, `lease record of ${contents.length} bytes exceeds ${LEASE_BYTES_MAX}`);
  return contents;
}

/**
 * The lease of `filer` in `folder`, or undefined when none was written. A record that is too
 * large, does not parse, or names another filer is a MailboxError 'corrupt' naming its path; a
 * failed read is a MailboxError 'io'.
 */
export async function readLease(folder: string, filer: string): Promise<LeaseRecord | undefined> {
  const path = leasePath(folder);
  const read = await io('read lease', path, () => readBounded(path, LEASE_BYTES_MAX));
  if (read.kind === 'absent') return undefined;
  if (read.kind === 'too-large') throw corrupt(path, `holds ${read.bytes} bytes, more than ${LEASE_BYTES_MAX}`);
  let value: unknown;
  try {
    value = JSON.parse(read.contents.toString('utf8')) as unknown;
  } catch {
    throw corrupt(path, `does not parse as JSON (${read.contents.length} bytes)`);
  }
  return parseLease(path, filer, value);
}

function parseLease(path: string, filer: string, value: unknown): LeaseRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw corrupt(path, 'is not a JSON object');
  const fields = value as Record<string, unknown>;
  if (fields['filer'] !== filer) {
    throw corrupt(path, `names filer ${JSON.stringify(fields['filer'])}, not ${JSON.stringify(filer)}`);
  }
  const { owner, leaseMs, released } = fields;
  if (!isName(owner)) throw corrupt(path, `has an invalid owner ${JSON.stringify(owner)}`);
  const epoch = parseDecimal(fields['epoch'], 0n);
  if (epoch === undefined) throw corrupt(path, `has an invalid epoch ${JSON.stringify(fields['epoch'])} (a decimal string)`);
  const sequence = parseDecimal(fields['sequence'], 1n);
  if (sequence === undefined) {
    throw corrupt(path, `has an invalid sequence ${JSON.stringify(fields['sequence'])} (a decimal string from 1)`);
  }
  if (!isLeaseMs(leaseMs)) throw corrupt(path, `has an invalid leaseMs ${JSON.stringify(leaseMs)} (1 to ${LEASE_MS_MAX})`);
  if (released !== undefined && released !== true) throw corrupt(path, `has an invalid released ${JSON.stringify(released)}`);
  const record = { filer, owner, epoch, sequence, leaseMs };
  return released === true ? { ...record, released } : record;
}

/** What the keeper tells its owner when the lease lapsed: stop serving (fencing.md, "Stopping"). */
export interface LeaseExpiry {
  readonly validUntilMs: number;
  /** The keeper's clock when the lapse was noticed (validUntilMs itself, unless a timer ran late). */
  readonly nowMs: number;
  /** The last renewal that counted. */
  readonly sequence: bigint;
}

export interface LeaseKeeperOptions {
  /** The filer's mailbox folder, `<mailbox>/<filer>/` (Mailbox.folder). */
  readonly folder: string;
  readonly filer: string;
  readonly owner: string;
  readonly epoch: bigint;
  readonly leaseMs?: number;
  readonly renewMs?: number;
  /** Monotonic: validity is measured on it, and only on it. */
  readonly clock: InterconnectClock;
  readonly log: Logger;
  /** Puts a record where the partner reads it; writeLease(folder, record) unless given (tests). */
  readonly write?: (record: LeaseRecord) => Promise<void>;
  /** Called once, at validUntil, when the lease lapsed; not after stop() or release(). */
  readonly onExpired?: (expiry: LeaseExpiry) => void;
  /**
   * Called with the new validUntilMs after each renewal that counted (the first one included), so
   * it can be published elsewhere (lease-worker.ts). Must not throw. release() shortening validity
   * is not reported: whoever called release() knows.
   */
  readonly onRenewed?: (validUntilMs: number) => void;
}

/**
 * renewing: started and not lapsed; lapsed: no renewal completed in time (final); released and
 * stopped: ended by the owner.
 */
type KeeperPhase = 'idle' | 'renewing' | 'lapsed' | 'released' | 'stopped';

/**
 * The holder's side. `start()` writes sequence 1, then a renewal every renewMs, measured from the
 * start of the previous one; never two at a time: a renewal still running when the next is due
 * delays it until it ends (a hung one, for ever; the lease then lapses at validUntil).
 */
export class LeaseKeeper {
  readonly filer: string;
  readonly owner: string;
  readonly epoch: bigint;
  readonly leaseMs: number;
  readonly renewMs: number;
  readonly #clock: InterconnectClock;
  readonly #log: Logger;
  readonly #write: (record: LeaseRecord) => Promise<void>;
  readonly #onExpired: ((expiry: LeaseExpiry) => void) | undefined;
  readonly #onRenewed: ((validUntilMs: number) => void) | undefined;
  #phase: KeeperPhase = 'idle';
  /** The last sequence written or being written: every attempt takes a new one (see #renew). */
  #sequence = 0n;
  #inFlight: Promise<void> | undefined;
  #validUntilMs: number | undefined;
  #countedSequence: bigint | undefined;
  /** A completion counts only before this: validUntil once valid, start + leaseMs before. */
  #deadlineMs = Number.NEGATIVE_INFINITY;
  #renewTimer: CancelTimer | undefined;
  #expiryTimer: CancelTimer | undefined;
  #settleStart: ((valid: boolean) => void) | undefined;

  constructor(options: LeaseKeeperOptions) {
    assertName(options.filer, 'filer');
    assertName(options.owner, 'owner');
    assert.ok(options.epoch >= 0n && options.epoch <= EPOCH_MAX, `epoch ${options.epoch} out of 0..${EPOCH_MAX}`);
    this.filer = options.filer;
    this.owner = options.owner;
    this.epoch = options.epoch;
    this.leaseMs = options.leaseMs ?? LEASE_MS_DEFAULT;
    this.renewMs = options.renewMs ?? LEASE_RENEW_MS_DEFAULT;
    assert.ok(isLeaseMs(this.leaseMs), `leaseMs ${this.leaseMs} out of 1..${LEASE_MS_MAX}`);
    assert.ok(this.renewMs > 0 && this.renewMs < this.leaseMs, `renewMs ${this.renewMs} must lie in (0, leaseMs ${this.leaseMs})`);
    this.#clock = options.clock;
    this.#log = options.log;
    const folder = options.folder;
    this.#write = options.write ?? ((record) => writeLease(folder, record));
    this.#onExpired = options.onExpired;
    this.#onRenewed = options.onRenewed;
  }

  /** Start of the last renewal that counted + leaseMs (keeper's clock); undefined before the first. */
  get validUntilMs(): number | undefined {
    return this.#validUntilMs;
  }

  /** The last sequence written or being written. */
  get sequence(): bigint {
    return this.#sequence;
  }

  /** Whether the node may serve at `nowMs`: a comparison, no I/O (fencing.md, "Serving only while valid"). */
  isValid(nowMs: number = this.#clock.nowMs()): boolean {
    return this.#validUntilMs !== undefined && nowMs < this.#validUntilMs;
  }

  /**
   * Writes sequence 1 and starts renewing. Resolves true once the lease is first valid, false if
   * it lapsed (no write completed within leaseMs of the start), or was stopped or released, first.
   */
  start(sinceMs: number = this.#clock.nowMs()): Promise<boolean> {
    assert.equal(this.#phase, 'idle', 'a lease keeper starts once');
    this.#phase = 'renewing';
    const started = new Promise<boolean>((resolve) => {
      this.#settleStart = resolve;
    });
    // `sinceMs`: when the claim this lease serves began (fencing.md: the partner times a claim
    // with no lease yet from when it first saw it, which cannot be before the claim began).
    this.#deadlineMs = Math.min(sinceMs, this.#clock.nowMs()) + this.leaseMs;
    this.#armExpiry();
    this.#renew();
    this.#log.info({ filer: this.filer, owner: this.owner, epoch: this.epoch.toString(), leaseMs: this.leaseMs }, 'lease started');
    return started;
  }

  /** Stops renewing. Validity stays what the last renewal gave (it is true until then). */
  stop(): void {
    if (this.#phase === 'idle' || this.#phase === 'renewing') this.#phase = 'stopped';
    this.#end();
  }

  /**
   * For a node that has stopped serving (its calls drained): ends validity now, waits for the
   * renewal in flight, and writes a final record with `released: true`, so the partner may claim
   * at once. Rejects when that write fails (the partner then waits out the lease).
   */
  async release(): Promise<void> {
    assert.ok(this.#phase !== 'idle' && this.#phase !== 'released', `release of a lease keeper that is ${this.#phase}`);
    const nowMs = this.#clock.nowMs();
    if (this.#validUntilMs !== undefined && this.#validUntilMs > nowMs) this.#validUntilMs = nowMs;
    this.#phase = 'released';
    this.#end();
    // The released record is the last write: a straggler renaming after it would hide it.
    await this.#inFlight;
    this.#sequence += 1n;
    await this.#write({ ...this.#record(this.#sequence), released: true });
    this.#log.info({ filer: this.filer, sequence: this.#sequence.toString() }, 'lease released');
  }

  #record(sequence: bigint): LeaseRecord {
    return { filer: this.filer, owner: this.owner, epoch: this.epoch, sequence, leaseMs: this.leaseMs };
  }

  #renew(): void {
    this.#renewTimer = undefined;
    if (this.#phase !== 'renewing') return;
    assert.equal(this.#inFlight, undefined, 'one lease renewal at a time');
    assert.ok(this.#sequence < LEASE_SEQUENCE_MAX, 'lease sequence exhausted');
    const beganMs = this.#clock.nowMs();
    // Already lapsed (the process was stopped past validUntil, and this timer ran before the expiry
    // timer): write nothing. The partner may own the next epoch by now and be writing its own lease.
    if (beganMs >= this.#deadlineMs) {
      this.#lapse(beganMs);
      return;
    }
    // A new sequence for every attempt, failed ones included: a failed write may still have
    // renamed its file, and the partner must never time a sequence from before a write began.
    this.#sequence += 1n;
    this.#inFlight = this.#attempt(this.#record(this.#sequence), beganMs);
  }

  /** One renewal: never rejects. */
  async #attempt(record: LeaseRecord, beganMs: number): Promise<void> {
    try {
      await this.#write(record);
      this.#completed(record.sequence, beganMs);
    } catch (error) {
      if (this.#phase === 'renewing') {
        const reason = error instanceof Error ? error.message : String(error);
        this.#log.warn({ filer: this.filer, sequence: record.sequence.toString(), reason }, 'lease renewal failed');
      }
    } finally {
      this.#inFlight = undefined;
      this.#scheduleRenewal(beganMs);
    }
  }

  #completed(sequence: bigint, beganMs: number): void {
    if (this.#phase !== 'renewing') return;
    const nowMs = this.#clock.nowMs();
    // Too late: the partner may have read the old sequence after validUntil and claimed.
    if (nowMs >= this.#deadlineMs) {
      this.#lapse(nowMs);
      return;
    }
    this.#validUntilMs = beganMs + this.leaseMs;
    this.#deadlineMs = this.#validUntilMs;
    this.#countedSequence = sequence;
    this.#onRenewed?.(this.#validUntilMs);
    this.#settleStart?.(true);
    this.#settleStart = undefined;
    this.#armExpiry();
  }

  #scheduleRenewal(previousBeganMs: number): void {
    if (this.#phase !== 'renewing') return;
    const delayMs = previousBeganMs + this.renewMs - this.#clock.nowMs();
    if (delayMs <= 0) this.#renew();
    else this.#renewTimer = this.#clock.after(delayMs, () => this.#renew());
  }

  #armExpiry(): void {
    this.#expiryTimer?.();
    this.#expiryTimer = this.#clock.after(this.#deadlineMs - this.#clock.nowMs(), () => this.#checkExpiry());
  }

  #checkExpiry(): void {
    this.#expiryTimer = undefined;
    if (this.#phase !== 'renewing') return;
    const nowMs = this.#clock.nowMs();
    // A system timer may run a little early against the monotonic clock: wait out the rest.
    if (nowMs < this.#deadlineMs) this.#armExpiry();
    else this.#lapse(nowMs);
  }

  #lapse(nowMs: number): void {
    this.#phase = 'lapsed';
    this.#end();
    const validUntilMs = this.#validUntilMs;
    const sequence = this.#countedSequence;
    if (validUntilMs === undefined || sequence === undefined) {
      this.#log.warn({ filer: this.filer, leaseMs: this.leaseMs }, 'lease never became valid: no write completed within the lease');
      return;
    }
    this.#log.warn({ filer: this.filer, sequence: sequence.toString(), lateMs: nowMs - validUntilMs }, 'lease expired');
    this.#onExpired?.({ validUntilMs, nowMs, sequence });
  }

  /** Cancels the timers, and settles start() with false if the lease never became valid. */
  #end(): void {
    this.#renewTimer?.();
    this.#renewTimer = undefined;
    this.#expiryTimer?.();
    this.#expiryTimer = undefined;
    this.#settleStart?.(false);
    this.#settleStart = undefined;
  }
}

export interface LeaseObserverOptions {
  /** Reads the lease (readLease(folder, filer) in production); undefined when there is none. */
  readonly read: () => Promise<LeaseRecord | undefined>;
  readonly leaseMs?: number;
  readonly marginMs?: number;
  readonly driftRatio?: number;
  /** The observer's own monotonic clock; only differences of its readings are used. */
  readonly clock: InterconnectClock;
}

interface Timing {
  /** How long the current observation has been seen unchanged, judged at the start of the read. */
  readonly unchangedForMs: number;
  /** How much longer it must stay unchanged to be expired (0 once it is). */
  readonly expiresInMs: number;
}

/**
 * What one poll saw. fresh: the sequence changed within the threshold; expired: it did not (the
 * partner may claim, the interconnect being silent too); released: the holder released it (claim
 * at once); absent: no lease (unchangedForMs counts the absence; what it allows is the caller's
 * decision); unreadable: the read failed, so nothing is known (never a reason to claim).
 */
export type ObservedLease =
  | (Timing & { readonly state: 'fresh' | 'expired' | 'released'; readonly record: LeaseRecord })
  | (Timing & { readonly state: 'absent' })
  | (Timing & { readonly state: 'unreadable'; readonly error: unknown; readonly record: LeaseRecord | undefined });

interface Sighting {
  readonly key: string;
  readonly record: LeaseRecord | undefined;
  readonly firstSeenMs: number;
}

/**
 * The partner's side: `poll()` reads the lease and times how long it has stayed unchanged, on the
 * observer's clock only. Call it at least every renewMs, one poll at a time.
 */
export class LeaseObserver {
  readonly leaseMs: number;
  readonly marginMs: number;
  readonly driftRatio: number;
  readonly #read: () => Promise<LeaseRecord | undefined>;
  readonly #clock: InterconnectClock;
  #sighting: Sighting | undefined;
  #polling = false;

  constructor(options: LeaseObserverOptions) {
    this.leaseMs = options.leaseMs ?? LEASE_MS_DEFAULT;
    this.marginMs = options.marginMs ?? LEASE_MARGIN_MS_DEFAULT;
    this.driftRatio = options.driftRatio ?? LEASE_DRIFT_RATIO_DEFAULT;
    assert.ok(isLeaseMs(this.leaseMs), `leaseMs ${this.leaseMs} out of 1..${LEASE_MS_MAX}`);
    assert.ok(this.marginMs >= 0, `marginMs ${this.marginMs} is negative`);
    assert.ok(this.driftRatio >= 0 && this.driftRatio < 1, `driftRatio ${this.driftRatio} out of [0, 1)`);
    this.#read = options.read;
    this.#clock = options.clock;
  }

  /** leaseMs × (1 + ρ) + marginMs, with the longer of the observer's and the record's leaseMs. */
  thresholdMs(record?: LeaseRecord): number {
    const leaseMs = Math.max(this.leaseMs, record?.leaseMs ?? 0);
    return leaseMs * (1 + this.driftRatio) + this.marginMs;
  }

  async poll(): Promise<ObservedLease> {
    assert.ok(!this.#polling, 'one lease poll at a time');
    this.#polling = true;
    // The file was as read at some instant between these two readings of the clock.
    const beganMs = this.#clock.nowMs();
    let record: LeaseRecord | undefined;
    try {
      record = await this.#read();
    } catch (error) {
      const last = this.#sighting;
      const timing = this.#timing(beganMs, last);
      return { state: 'unreadable', error, record: last?.record, ...timing };
    } finally {
      this.#polling = false;
    }
    const endedMs = this.#clock.nowMs();
    const key = record === undefined ? 'absent' : keyOf(record);
    if (this.#sighting?.key !== key) this.#sighting = { key, record, firstSeenMs: endedMs };
    const timing = this.#timing(beganMs, this.#sighting);
    if (record === undefined) return { state: 'absent', ...timing };
    if (record.released === true) return { state: 'released', record, ...timing };
    return { state: timing.expiresInMs === 0 ? 'expired' : 'fresh', record, ...timing };
  }

  #timing(readBeganMs: number, sighting: Sighting | undefined): Timing {
    if (sighting === undefined) return { unchangedForMs: 0, expiresInMs: this.thresholdMs() };
    const unchangedForMs = Math.max(0, readBeganMs - sighting.firstSeenMs);
    return { unchangedForMs, expiresInMs: Math.max(0, this.thresholdMs(sighting.record) - unchangedForMs) };
  }
}

/** What identifies one renewal: a new owner or epoch restarts at sequence 1. */
function keyOf(record: LeaseRecord): string {
  return `${record.owner}\u0000${record.epoch}\u0000${record.sequence}\u0000${record.released === true}`;
}

async function io<T>(what: string, path: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw ioError(what, path, error);
  }
}

function ioSync<T>(what: string, path: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw ioError(what, path, error);
  }
}

function ioError(what: string, path: string, error: unknown): MailboxError {
  if (error instanceof MailboxError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new MailboxError('io', `${what} ${path}: ${reason}`, { path, cause: error });
}

function corrupt(path: string, problem: string): MailboxError {
  return new MailboxError('corrupt', `lease ${path} ${problem}`, { path });
}

function parseDecimal(text: unknown, lowest: bigint): bigint | undefined {
  if (typeof text !== 'string' || text.length > DECIMAL_DIGITS_MAX || !DECIMAL.test(text)) return undefined;
  const value = BigInt(text);
  return value >= lowest && value <= EPOCH_MAX ? value : undefined;
}

function isName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && Buffer.byteLength(value) <= NAME_BYTES_MAX;
}

function isLeaseMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 1 && value <= LEASE_MS_MAX;
}

function assertName(name: string, what: string): void {
  assert.ok(isName(name), `${what} name ${JSON.stringify(name)}: 1 to ${NAME_BYTES_MAX} bytes`);
}

function assertRecord(record: LeaseRecord): void {
  assertName(record.filer, 'filer');
  assertName(record.owner, 'owner');
  assert.ok(record.epoch >= 0n && record.epoch <= EPOCH_MAX, `epoch ${record.epoch} out of 0..${EPOCH_MAX}`);
  assert.ok(record.sequence >= 1n && record.sequence <= LEASE_SEQUENCE_MAX, `sequence ${record.sequence} out of range`);
  assert.ok(isLeaseMs(record.leaseMs), `leaseMs ${record.leaseMs} out of 1..${LEASE_MS_MAX}`);
}
