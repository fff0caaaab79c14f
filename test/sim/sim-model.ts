// The vocabulary of the cluster simulation (test/sim/cluster-sim.ts): node and filer names, its
// deadlines and lease timings, the faults, hooks and options a run is given, what it records, and
// the state the simulator keeps for each node, each filer's mailbox and its queue of pending
// happenings.

import type { AutoGivebackConfig } from '../../src/cluster/core/giveback-guard.js';
import type { NodeCore } from '../../src/cluster/core/node-core.js';
import type { Action, ClusterEvent, CommandResult, OperationKind, PeerMessage } from '../../src/cluster/core/types.js';
import { LEASE_DRIFT_RATIO_DEFAULT, LEASE_MARGIN_MS_DEFAULT, LEASE_MS_DEFAULT, LEASE_RENEW_MS_DEFAULT, type LeaseRecord } from '../../src/cluster/lease.js';
import type { SimLeases } from './lease-runtime.js';
import type { NodeClock } from './sim-clock.js';

export type NodeName = 'a' | 'b';
export type IdAction = Extract<Action, { id: number }>;
export const NODE_NAMES: readonly NodeName[] = ['a', 'b'];
export const FILERS: readonly { readonly name: string; readonly home: NodeName }[] = [
  { name: 'a', home: 'a' },
  { name: 'b', home: 'b' },
];
export const DRAIN_DEADLINE_MS = 2000;
export const OPERATION_DEADLINE_MS = 10_000;
/** The lease timings of fencing.md's defaults; the runtime polls leases every LEASE_POLL_MS. */
export const LEASE_MS = LEASE_MS_DEFAULT;
export const LEASE_RENEW_MS = LEASE_RENEW_MS_DEFAULT;
export const LEASE_MARGIN_MS = LEASE_MARGIN_MS_DEFAULT;
export const LEASE_POLL_MS = 100;
/** How long an observer waits before it reads a lease 'expired': leaseMs × (1 + ρ) + marginMs. */
export const LEASE_WAIT_MS = LEASE_MS * (1 + LEASE_DRIFT_RATIO_DEFAULT) + LEASE_MARGIN_MS;
/** Events of the trace quoted by a failure. */
export const TRACE_TAIL = 30;
/** How long a quiesce phase runs: past every operation deadline, with room for the last steps. */
export const QUIESCE_MS = 2 * OPERATION_DEADLINE_MS + 5 * DRAIN_DEADLINE_MS;

export interface Faults {
  readonly messageLoss: number;
  readonly messageDuplicate: number;
  /** Probability that an action's result is {ok:false}. */
  readonly actionFailure: number;
  /** Probability that a node crashes right after an action's effect, before its `done`. */
  readonly crashAfterEffect: number;
  /** Probability that a lease write fails (half of them after the record became visible). */
  readonly leaseWriteFailure: number;
}
export const NO_FAULTS: Faults = { messageLoss: 0, messageDuplicate: 0, actionFailure: 0, crashAfterEffect: 0, leaseWriteFailure: 0 };

/** Scenario controls: each may override what the simulated runtime would do. */
export interface SimHooks {
  /** Calls still in progress when a drain ends (more than 0: it ran to its deadline). */
  drainInProgress?: (node: NodeName) => number | undefined;
  /** After an action's effect, before its `done` reaches the core: 'crash' crashes the node there. */
  afterEffect?: (node: NodeName, action: IdAction) => 'crash' | undefined;
  /** Before a message reaches a core: 'drop' loses it. */
  beforeDeliver?: (to: NodeName, message: PeerMessage) => 'drop' | undefined;
  /** When a core sends a message: 'drop' loses it, 'duplicate' delivers it twice. */
  onSend?: (from: NodeName, message: PeerMessage) => 'drop' | 'duplicate' | undefined;
  /** How long an action takes, instead of the configured delay. */
  actionDelay?: (node: NodeName, action: IdAction) => number | undefined;
  /** An error for the action to fail with (nothing written), instead of the random failures. */
  actionFailure?: (node: NodeName, action: IdAction) => string | undefined;
  /**
   * What `node`'s probe of its partner finds, instead of "gone (refused)" exactly when the
   * partner's process is not running: a partner whose machine lost power refuses nothing, its
   * connections time out, so the probe cannot tell it from a stalled one.
   */
  probe?: (node: NodeName, filer: string) => { readonly gone: boolean; readonly detail: string } | undefined;
}

export interface SimOptions {
  readonly seed: number;
  readonly faults?: Faults;
  readonly messageDelayMs?: readonly [number, number];
  readonly actionDelayMs?: readonly [number, number];
  /** How long a lease write takes (it may become visible earlier), and a lease read. */
  readonly leaseWriteMs?: readonly [number, number];
  readonly leaseReadMs?: readonly [number, number];
  /** How long a broken or restored link takes to reach the cores as peer-down / peer-up. */
  readonly detectMs?: number;
  readonly tickMs?: number;
  readonly drainInProgressMax?: number;
  /** Each node's monotonic clock: its rate against real time (1 ± ρ) and its reading at real 0. */
  readonly clocks?: Readonly<Record<NodeName, { readonly rate: number; readonly originMs: number }>>;
  /** How often each serving node acknowledges a client's write, on its clock (default 50..150 ms). */
  readonly ackEveryMs?: readonly [number, number];
  readonly autoGiveback?: AutoGivebackConfig;
  readonly hooks?: SimHooks;
  /** Wraps each new core: a test of the checker itself can break the protocol on purpose. */
  readonly wrapCore?: (core: NodeCore, node: NodeName) => CoreLike;
}

/** What the simulator needs of a core. */
export type CoreLike = Pick<NodeCore, 'start' | 'handle' | 'status'>;

export interface Reply {
  readonly id: string;
  /** The core that answered, or 'admin' when the command found its node down. */
  readonly from: NodeName | 'admin';
  readonly atMs: number;
  readonly result: CommandResult;
}
export interface Recorded {
  readonly node: NodeName;
  /** Real (simulated) time of the record; the event's atMs is on the node's own clock. */
  readonly realMs: number;
  readonly event: ClusterEvent;
}
export interface Command {
  readonly id: string;
  readonly node: NodeName;
  readonly kind: OperationKind;
  readonly filer: string;
  readonly force: boolean;
  inc: number;
}
export interface NodeState {
  readonly name: NodeName;
  /** The machine's monotonic clock: it outlives the process, and keeps running through a pause. */
  readonly clock: NodeClock;
  alive: boolean;
  /** Bumped at each crash: completions, messages, timers and ticks of an older life are dropped. */
  inc: number;
  core: CoreLike | undefined;
  /** Filer -> epoch, for the filers this node's runtime serves (gates open or draining). */
  readonly serving: Map<string, bigint>;
  /** Filer -> epoch the runtime stopped serving because its lease lapsed (until it serves again). */
  readonly fenced: Map<string, bigint>;
  readonly inflight: Map<number, IdAction>;
  peerTold: boolean;
  /** SIGSTOP: nothing of this node runs; what falls due waits in `deferred` until it resumes. */
  paused: boolean;
  readonly deferred: Happening[];
  /** The node's leases and lease observers (one set per process). */
  leases: SimLeases | undefined;
  /** Its mailbox (and lease) reads and writes fail. */
  mailboxDown: boolean;
  /** Added to each of its storage operations (mailbox actions, lease reads and writes). */
  slowStorageMs: number;
}
export interface Mailbox {
  readonly claims: Map<bigint, NodeName>;
  highest: bigint | undefined;
  record: { epoch: bigint; owner: NodeName; state: 'normal' | 'taken-over' | 'released' } | undefined;
  readonly handoffs: Set<bigint>;
  /** lease.json, as last replaced (last writer wins). */
  lease: LeaseRecord | undefined;
}
/** The volume of a filer, as far as the invariants care: the writes acknowledged to clients. */
export interface Volume {
  acked: number;
  lastEpoch: bigint | undefined;
}
export type Happening =
  | { readonly kind: 'complete'; readonly node: NodeName; readonly inc: number; readonly action: IdAction; readonly inProgress: number }
  | { readonly kind: 'deliver'; readonly node: NodeName; readonly inc: number; readonly message: PeerMessage }
  | { readonly kind: 'link'; readonly node: NodeName; readonly inc: number; readonly up: boolean; readonly replayed?: true }
  /** Something of the node's process: a timer, a storage reply. `live` false: cancelled, skipped. */
  | { readonly kind: 'call'; readonly node: NodeName; readonly inc: number; readonly run: () => void; readonly live?: () => boolean }
  /** Something outside the nodes: the shared storage landing a lease write, an operator. */
  | { readonly kind: 'world'; readonly run: () => void }
  | { readonly kind: 'command'; readonly id: string }
  | { readonly kind: 'crash' | 'restart' | 'resume' | 'healthy'; readonly node: NodeName }
  | { readonly kind: 'pause'; readonly node: NodeName; readonly ms: number }
  | { readonly kind: 'mailbox'; readonly node: NodeName; readonly down: boolean }
  | { readonly kind: 'slow'; readonly node: NodeName; readonly extraMs: number }
  | { readonly kind: 'fault'; readonly node: NodeName; readonly filer: string | undefined }
  | { readonly kind: 'partition' | 'heal' }
  | { readonly kind: 'jump'; readonly ms: number };
export interface Queued {
  readonly at: number;
  readonly seq: number;
  readonly what: Happening;
  /** Planned faults and commands: a quiesce removes them. */
  readonly planned: boolean;
}

export class SimulationError extends Error {
  override readonly name = 'SimulationError';
}

export const partnerOf = (node: NodeName): NodeName => (node === 'a' ? 'b' : 'a');

export interface RandomPlan {
  readonly commands: number;
  readonly crashes: number;
  readonly partitions: number;
  readonly jumps: number;
  readonly pauses: number;
  readonly mailboxOutages: number;
  readonly slowStorage: number;
  /** Faults the nodes report (a negotiated takeover), each cleared later by 'healthy'. */
  readonly faultReports: number;
  /** Share of the operator's takeovers sent with --force. */
  readonly forced: number;
}
