// The vocabulary of the cluster simulation (test/sim/cluster-sim.ts): node and filer names, its
// deadlines, the faults, hooks and options a run is given, what it records, and the state the
// simulator keeps for each node, each filer's mailbox and its queue of pending happenings.

import type { NodeCore } from '../../src/cluster/core/node-core.js';
import type { Action, ClusterEvent, CommandResult, OperationKind, PeerMessage } from '../../src/cluster/core/types.js';

export type NodeName = 'a' | 'b';
export type IdAction = Extract<Action, { id: number }>;
export const NODE_NAMES: readonly NodeName[] = ['a', 'b'];
export const FILERS: readonly { readonly name: string; readonly home: NodeName }[] = [
  { name: 'a', home: 'a' },
  { name: 'b', home: 'b' },
];
export const DRAIN_DEADLINE_MS = 2000;
export const OPERATION_DEADLINE_MS = 10_000;
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
}
export const NO_FAULTS: Faults = { messageLoss: 0, messageDuplicate: 0, actionFailure: 0, crashAfterEffect: 0 };

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
}

export interface SimOptions {
  readonly seed: number;
  readonly faults?: Faults;
  readonly messageDelayMs?: readonly [number, number];
  readonly actionDelayMs?: readonly [number, number];
  /** How long a broken or restored link takes to reach the cores as peer-down / peer-up. */
  readonly detectMs?: number;
  readonly tickMs?: number;
  readonly drainInProgressMax?: number;
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
  readonly event: ClusterEvent;
}
export interface Command {
  readonly id: string;
  readonly node: NodeName;
  readonly kind: OperationKind;
  readonly filer: string;
  inc: number;
}
export interface NodeState {
  readonly name: NodeName;
  alive: boolean;
  /** Bumped at each crash: completions, messages and ticks of an older life are dropped. */
  inc: number;
  core: CoreLike | undefined;
  /** Filer -> epoch, for the filers this node's runtime serves (gates open or draining). */
  readonly serving: Map<string, bigint>;
  readonly inflight: Map<number, IdAction>;
  peerTold: boolean;
}
export interface Mailbox {
  readonly claims: Map<bigint, NodeName>;
  highest: bigint | undefined;
  record: { epoch: bigint; owner: NodeName; state: 'normal' | 'taken-over' | 'released' } | undefined;
  readonly handoffs: Set<bigint>;
}
export type Happening =
  | { readonly kind: 'tick'; readonly node: NodeName; readonly inc: number }
  | { readonly kind: 'complete'; readonly node: NodeName; readonly inc: number; readonly action: IdAction; readonly inProgress: number }
  | { readonly kind: 'deliver'; readonly to: NodeName; readonly inc: number; readonly message: PeerMessage }
  | { readonly kind: 'link'; readonly node: NodeName; readonly inc: number; readonly up: boolean }
  | { readonly kind: 'command'; readonly id: string }
  /** A random operator command, chosen when it fires: mostly the one that would make progress. */
  | { readonly kind: 'operator' }
  | { readonly kind: 'crash' | 'restart'; readonly node: NodeName }
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
}
