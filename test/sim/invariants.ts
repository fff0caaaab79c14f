// The safety invariants of the cluster simulation (test/sim/cluster-sim.ts), checked after every
// step: at most one node serves a filer, and only at the highest epoch claimed in its mailbox;
// the highest claim only grows; a claim once won keeps its owner; a lease names the holder of a
// claim; each live core's status agrees with what its runtime serves and with the phases its
// operation allows; each write acknowledged to a client was acknowledged by the sole server; and
// replies and recorded events agree with what the runtime did.
//
// "Serves" means what a client can observe (docs/design/fencing.md, "Serving only while valid"):
// the runtime serves the filer (gates open) AND its lease is valid on the node's own clock. A
// node stopped (SIGSTOP) with a lease still valid counts: it would answer from its first
// instruction on resuming. One whose lease ran out does not: its gate refuses. So "at most one
// server, at the highest claim" after every step is the timing argument of fencing.md checked:
// a partner claims the next epoch only after the holder's lease has lapsed on the holder's clock.

import type { FilerPhase } from '../../src/cluster/core/node-core.js';
import type { ClusterEvent, CommandResult } from '../../src/cluster/core/types.js';
import { LEASE_DRIFT_RATIO_DEFAULT } from '../../src/cluster/lease.js';
import type { Mailbox, NodeName, NodeState, Volume } from './sim-model.js';

/** Fails the run with a message; the simulator adds the seed, step and trace tail. */
export type Violate = (message: string) => never;

const SERVED_PHASES: readonly FilerPhase[] = ['serving', 'draining', 'releasing'];
const OPERATION_ONLY_PHASES: readonly FilerPhase[] = ['checking', 'negotiating', 'waiting', 'draining', 'releasing', 'released', 'inspecting'];
const OPERATION_PHASES: Readonly<Record<string, readonly FilerPhase[]>> = {
  acquirer: ['checking', 'negotiating', 'waiting', 'inspecting', 'claiming', 'activating'],
  releaser: ['draining', 'releasing', 'released', 'inspecting', 'claiming', 'activating'],
};

/** One filer across the pair: its servers (live, runtime serving, lease valid) against its mailbox.
 *  `lastHighest` is the highest claim seen at the last check, updated here; `wins` every claim won. */
export function checkFiler(name: string, box: Mailbox, servers: readonly { node: NodeName; epoch: bigint }[], lastHighest: Map<string, bigint>, wins: ReadonlyMap<bigint, NodeName>, violate: Violate): void {
  if (servers.length > 1) violate(`filer ${name} is served by ${servers.map((s) => `${s.node}@${s.epoch}`).join(' and ')}`);
  const last = lastHighest.get(name);
  if (last !== undefined && (box.highest === undefined || box.highest < last)) violate(`the highest claim of ${name} went from ${last} to ${box.highest}`);
  if (box.highest !== undefined) lastHighest.set(name, box.highest);
  for (const [epoch, owner] of wins) {
    if (box.claims.get(epoch) !== owner) violate(`claim ${epoch} of ${name}, won by ${owner}, now says ${box.claims.get(epoch)}`);
  }
  // A keeper writes only once its claim is won (lease-runtime.ts).
  if (box.lease !== undefined && box.claims.get(box.lease.epoch) !== box.lease.owner) violate(`the lease of ${name} names ${box.lease.owner} at epoch ${box.lease.epoch}, claimed by ${box.claims.get(box.lease.epoch) ?? 'nobody'}`);
  for (const { node, epoch } of servers) {
    if (box.claims.get(epoch) !== node) violate(`${node} serves ${name} at epoch ${epoch}, claimed by ${box.claims.get(epoch) ?? 'nobody'}`);
    // Also while the new claimer has not started serving yet: it claimed only after this lease lapsed.
    if (box.highest !== epoch) violate(`${node} serves ${name} at epoch ${epoch} while epoch ${box.highest} is claimed (fenced)`);
  }
}

/**
 * A write acknowledged by `node` at `epoch`. It went through the lease guard, so the node served
 * the filer; it is durable once acknowledged, so it survives if no other node serves (and could
 * write from an older state) at the same time, and no write is ever acknowledged at an epoch below
 * one already acknowledged (which would be a stale node writing behind the new owner's back).
 */
export function checkAck(filer: string, node: NodeName, epoch: bigint, servers: readonly { node: NodeName; epoch: bigint }[], box: Mailbox, volume: Volume, violate: Violate): void {
  const others = servers.filter((s) => s.node !== node);
  if (others.length > 0) violate(`${node} acknowledges a write to ${filer} at epoch ${epoch} while ${others.map((s) => `${s.node}@${s.epoch}`).join(', ')} serves it`);
  if (box.highest !== epoch) violate(`${node} acknowledges a write to ${filer} at epoch ${epoch} while epoch ${box.highest} is claimed`);
  if (volume.lastEpoch !== undefined && epoch < volume.lastEpoch) violate(`${node} acknowledges a write to ${filer} at epoch ${epoch} after one at epoch ${volume.lastEpoch}: that write may be lost`);
}

/** A core's status says what its runtime does, and its operation matches its phases. */
export function checkStatus(node: NodeState, violate: Violate): void {
  const status = node.core!.status();
  const op = status.operation;
  if (status.node !== node.name || status.peerUp !== node.peerTold) violate(`${node.name}: status says node ${status.node}, peerUp ${status.peerUp}; told ${node.peerTold}`);
  for (const filer of status.filers) {
    const where = `${node.name}: filer ${filer.name} is ${filer.phase}`;
    const served = node.serving.get(filer.name);
    if (SERVED_PHASES.includes(filer.phase) !== (served !== undefined)) violate(`${where}, but the runtime ${served === undefined ? 'does not serve it' : `serves it at ${served}`}`);
    if (filer.phase === 'serving' && (filer.epoch !== served || filer.servedBy !== node.name)) violate(`${where} at ${filer.epoch} by ${filer.servedBy}, the runtime at ${served}`);
    if ((filer.phase === 'failed') !== (filer.failure !== undefined)) violate(`${where} with failure ${filer.failure}`);
    if (OPERATION_ONLY_PHASES.includes(filer.phase) && op?.filer !== filer.name) violate(`${where} with no operation on it`);
    if (op?.filer === filer.name && !OPERATION_PHASES[op.role]!.includes(filer.phase)) violate(`${where} during ${op.role} operation ${op.id}`);
  }
}

/** A command answered ok was completed by the acquirer, which serves the filer now. */
export function checkReply(node: NodeState, id: string, filer: string | undefined, result: CommandResult, violate: Violate): void {
  if (result.ok && filer !== undefined && node.serving.get(filer) !== result.event.epoch) violate(`${id} answered ok by ${node.name}, which does not serve ${filer} at ${result.event.epoch}`);
}

/**
 * An event's phases lie within its operation (detection, before a failure takeover starts, does
 * not); a rollback is recorded by the node that took the filer back. One event mixes two clocks
 * (the releaser measures drain and release, the acquirer the rest and the total), each up to ρ
 * from real time: so a phase may exceed the total by 2ρ of it.
 */
export function checkRecord(node: NodeState, event: ClusterEvent, violate: Violate): void {
  for (const [phase, ms] of Object.entries(event.phases ?? {})) {
    const most = phase === 'detect' ? Infinity : (event.phases?.total ?? Infinity) * (1 + 2 * LEASE_DRIFT_RATIO_DEFAULT);
    if (!Number.isFinite(ms) || ms < 0 || ms > most) violate(`${node.name} records phase ${phase} of ${ms} ms (total ${event.phases?.total})`);
  }
  if ((event.kind === 'rollback') !== (event.outcome === 'rolled-back')) violate(`${node.name} records a ${event.kind} event with outcome ${event.outcome}`);
  if (event.outcome === 'rolled-back' && node.serving.get(event.filer) !== event.epoch) violate(`${node.name} records a rollback of ${event.filer} it does not serve at ${event.epoch}`);
}
