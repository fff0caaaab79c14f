// The leases of one node's process in the cluster simulation (test/sim/cluster-sim.ts), using
// the REAL LeaseKeeper and LeaseObserver (src/cluster/lease.ts) on the node's simulated monotonic
// clock (sim-clock.ts), the way the runtime's filer host uses them (docs/design/fencing.md):
//
// - A keeper per `serve`, started with `sinceMs` = when the claim of that epoch began (on the
//   node's clock): its first write must complete within leaseMs of the claim's start, because the
//   partner times a claim with no lease yet from its first sighting, which cannot be earlier.
// - Serving counts only while the keeper is valid on the node's own clock (the gate's check). A
//   lapse (or a first write that never completed in time) stops the runtime serving at once and
//   feeds the core `lease-lost`; a release or a failed serve calls keeper.release().
// - An observer per filer the runtime does not serve, polled every LEASE_POLL_MS of the node's
//   clock; its read returns lease.json, or a synthetic record {claim holder, claim epoch, sequence
//   0} when the highest claim is newer than the lease (filer-host.ts #leaseOrClaim).
//
// Every callback the keeper or observer makes goes through `host.safely`: the keeper calls
// onExpired inside a try/catch of its own, which would swallow a violation.

import type { Input, LeaseView } from '../../src/cluster/core/types.js';
import type { CancelTimer } from '../../src/cluster/interconnect/clock.js';
import { LeaseKeeper, LeaseObserver, type LeaseRecord, type ObservedLease } from '../../src/cluster/lease.js';
import { silentLogger } from '../../src/platform/logger.js';
import { FILERS, LEASE_MS, LEASE_POLL_MS, LEASE_RENEW_MS, type Mailbox, type NodeState } from './sim-model.js';
import type { Prng } from './prng.js';
import { describeLease } from './trace-text.js';

/** The keepers' log: the trace says what matters. */
const quiet = silentLogger();

/** What the simulator provides to one node's leases. */
export interface LeaseHost {
  /** The node: its name, clock, what its runtime serves, and how its storage behaves now. */
  readonly node: NodeState;
  readonly prng: Prng;
  /** How long a lease write (it may become visible earlier) and a lease read take. */
  readonly writeMs: readonly [number, number];
  readonly readMs: readonly [number, number];
  /** The probability that a lease write fails now (half of them after becoming visible). */
  writeFailure(): number;
  /** Node-bound: runs as a step of this process `delayMs` of real time from now (waits out a pause). */
  later(delayMs: number, run: () => void): void;
  /** The shared storage: runs `delayMs` from now whatever becomes of the node. */
  storage(delayMs: number, run: () => void): void;
  box(filer: string): Mailbox;
  /** An input for this process's core (nothing if the process is gone); logged unless quiet. */
  feed(input: Input, what: string, quiet?: boolean): void;
  safely(run: () => void): void;
  log(text: string): void;
}

interface Slot {
  readonly epoch: bigint;
  readonly keeper: LeaseKeeper;
  /** Ended by the runtime (released, stopped): its start() settling false is no lapse. */
  ended: boolean;
  lapsed: boolean;
}

export class SimLeases {
  readonly #host: LeaseHost;
  readonly #slots = new Map<string, Slot>();
  /** When this process last began to claim each filer, and which epoch (node clock). */
  readonly #claims = new Map<string, { readonly epoch: bigint; readonly sinceMs: number }>();
  readonly #observers = new Map<string, { readonly observer: LeaseObserver; polling: boolean; last: string | undefined }>();
  #pollTimer: CancelTimer | undefined;
  /** The process died: a straggling callback changes nothing. */
  #stopped = false;

  constructor(host: LeaseHost) {
    this.#host = host;
  }

  /** The poll loop of a new process: every LEASE_POLL_MS, each filer not served here. */
  start(): void {
    const { clock, serving } = this.#host.node;
    const round = (): void => {
      this.#pollTimer = clock.after(LEASE_POLL_MS, round);
      for (const { name } of FILERS) if (!serving.has(name)) this.#poll(name);
    };
    this.#pollTimer = clock.after(LEASE_POLL_MS, round);
  }

  /** The process died: nothing renews or polls any more (in-flight writes may still land). */
  stop(): void {
    this.#stopped = true;
    this.#pollTimer?.();
    for (const slot of this.#slots.values()) this.#end(slot);
  }

  /** Whether this node may serve `filer` at `epoch` now, on its own clock. */
  isValid(filer: string, epoch: bigint): boolean {
    const slot = this.#slots.get(filer);
    return slot !== undefined && slot.epoch === epoch && slot.keeper.isValid(this.#host.node.clock.nowMs());
  }

  /** The keeper of `filer`, for scenarios: its epoch, validUntil (node clock), and whether it lapsed. */
  keeperOf(filer: string): { epoch: bigint; validUntilMs: number | undefined; lapsed: boolean } | undefined {
    const slot = this.#slots.get(filer);
    return slot === undefined ? undefined : { epoch: slot.epoch, validUntilMs: slot.keeper.validUntilMs, lapsed: slot.lapsed };
  }

  /** A claim of `epoch` begins: a lease for it will be timed from now. */
  claimBegins(filer: string, epoch: bigint): void {
    this.#claims.set(filer, { epoch, sinceMs: this.#host.node.clock.nowMs() });
  }

  /** `serve` at `epoch` begins (the claim was won): the keeper starts, timed from the claim. */
  serveBegins(filer: string, epoch: bigint): void {
    const old = this.#slots.get(filer);
    if (old !== undefined) this.#end(old);
    const host = this.#host;
    const claim = this.#claims.get(filer);
    if (claim?.epoch !== epoch) host.log(`${host.node.name} serves ${filer}@${epoch} with no claim begun by this process`);
    const slot: Slot = {
      epoch,
      ended: false,
      lapsed: false,
      keeper: new LeaseKeeper({
        folder: `/sim/${filer}`,
        filer,
        owner: host.node.name,
        epoch,
        leaseMs: LEASE_MS,
        renewMs: LEASE_RENEW_MS,
        clock: host.node.clock,
        log: quiet,
        write: (record) => this.#write(record),
        onExpired: (expiry) => host.safely(() => this.#lapse(filer, slot, `lease expired at ${round(expiry.validUntilMs)} (noticed at ${round(expiry.nowMs)})`)),
      }),
    };
    this.#slots.set(filer, slot);
    void slot.keeper.start(claim?.epoch === epoch ? claim.sinceMs : undefined).then((valid) => host.safely(() => {
      if (!valid && !slot.ended && !slot.lapsed) this.#lapse(filer, slot, 'lease never became valid: no write completed within leaseMs of the claim');
    }));
  }

  /** Not served here any more (released, or a serve that failed): end validity and say so. */
  release(filer: string, epoch: bigint): void {
    const slot = this.#slots.get(filer);
    if (slot === undefined || slot.epoch !== epoch || slot.ended) return;
    slot.ended = true;
    // A lapsed keeper writes nothing more: the partner may own the next epoch's lease by now.
    if (slot.lapsed) return;
    const host = this.#host;
    slot.keeper.release().catch((error: unknown) => host.safely(() => host.log(`${host.node.name} lease ${filer}@${epoch} not released: ${error instanceof Error ? error.message : String(error)}`)));
  }

  #end(slot: Slot): void {
    slot.ended = true;
    slot.keeper.stop();
  }

  /** The keeper of `slot` lapsed: if the runtime serves it, its gates stop at once; the core hears afterwards. */
  #lapse(filer: string, slot: Slot, reason: string): void {
    slot.lapsed = true;
    const { node } = this.#host;
    if (this.#stopped || this.#slots.get(filer) !== slot) return;
    if (node.serving.get(filer) !== slot.epoch) return this.#host.log(`${node.name} lease ${filer}@${slot.epoch}: ${reason} (not served)`);
    node.serving.delete(filer);
    node.fenced.set(filer, slot.epoch);
    this.#host.feed({ type: 'lease-lost', nowMs: node.clock.nowMs(), filer, epoch: slot.epoch, reason }, `lease-lost ${filer}@${slot.epoch}: ${reason}`);
  }

  /** The keeper's write: a storage write with its delays, which may fail (maybe after landing). */
  #write(record: LeaseRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const host = this.#host;
      const ms = host.prng.int(...host.writeMs) + host.node.slowStorageMs;
      if (host.node.mailboxDown) return host.later(ms, () => reject(new Error('mailbox unreachable')));
      const fails = host.prng.chance(host.writeFailure());
      // A write may become visible before it completes (the rename before the fsyncs).
      const visibleMs = host.prng.chance(0.3) ? host.prng.int(0, ms) : ms;
      if (!fails || host.prng.chance(0.5)) host.storage(visibleMs, () => (host.box(record.filer).lease = record));
      host.later(ms, () => (fails ? reject(new Error('injected lease write failure')) : resolve()));
    });
  }

  #poll(filer: string): void {
    let entry = this.#observers.get(filer);
    if (entry === undefined) {
      entry = { observer: new LeaseObserver({ clock: this.#host.node.clock, read: () => this.#read(filer) }), polling: false, last: undefined };
      this.#observers.set(filer, entry);
    }
    if (entry.polling) return;
    entry.polling = true;
    const polled = entry;
    void polled.observer.poll().then((seen) => this.#host.safely(() => {
      polled.polling = false;
      const lease = leaseView(seen);
      // The trace shows a reading when it changes (or when the core acts on it).
      const text = describeLease(lease);
      const changed = polled.last !== text;
      polled.last = text;
      this.#host.feed({ type: 'lease', nowMs: this.#host.node.clock.nowMs(), filer, lease }, `lease ${filer}: ${text}`, !changed);
    }));
  }

  /** The lease as the observer times it (filer-host.ts #leaseOrClaim), read at its start or end. */
  #read(filer: string): Promise<LeaseRecord | undefined> {
    const host = this.#host;
    const look = (): LeaseRecord | undefined => {
      const box = host.box(filer);
      const lease = box.lease;
      if (box.highest === undefined || (lease !== undefined && lease.epoch >= box.highest)) return lease;
      return { filer, owner: box.claims.get(box.highest)!, epoch: box.highest, sequence: 0n, leaseMs: LEASE_MS };
    };
    return new Promise((resolve, reject) => {
      const ms = host.prng.int(...host.readMs) + host.node.slowStorageMs;
      if (host.node.mailboxDown) return host.later(ms, () => reject(new Error('mailbox unreachable')));
      if (host.prng.chance(0.5)) {
        const seen = look();
        host.later(ms, () => resolve(seen));
      } else host.later(ms, () => resolve(look()));
    });
  }
}

/** The observer's reading as the core takes it (filer-host.ts observeLease). */
export function leaseView(seen: ObservedLease): LeaseView {
  const record = 'record' in seen ? seen.record : undefined;
  return {
    state: seen.state,
    ...(record === undefined ? {} : { owner: record.owner, epoch: record.epoch }),
    unchangedForMs: seen.unchangedForMs,
    ...(seen.state === 'unreadable' ? { error: seen.error instanceof Error ? seen.error.message : String(seen.error) } : {}),
  };
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
