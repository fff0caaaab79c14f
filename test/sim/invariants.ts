// The safety invariants of the cluster simulation (test/sim/cluster-sim.ts), checked after every
// step: at most one node serves a filer, and only at the highest epoch claimed in its mailbox;
// the highest claim only grows; a claim once won keeps its owner; and each live core's status
// agrees with what its runtime serves and with the phases its operation allows.

import type { FilerPhase } from '../../src/cluster/core/node-core.js';
import type { Mailbox, NodeName, NodeState } from './sim-model.js';

/** Fails the run with a message; the simulator adds the seed, step and trace tail. */
export type Violate = (message: string) => never;

const SERVED_PHASES: readonly FilerPhase[] = ['serving', 'draining', 'releasing'];
const OPERATION_ONLY_PHASES: readonly FilerPhase[] = ['checking', 'negotiating', 'waiting', 'draining', 'releasing', 'released', 'inspecting'];
const OPERATION_PHASES: Readonly<Record<string, readonly FilerPhase[]>> = {
  acquirer: ['checking', 'negotiating', 'waiting', 'inspecting', 'claiming', 'activating'],
  releaser: ['draining', 'releasing', 'released', 'inspecting', 'claiming', 'activating'],
};

/** One filer across the pair: its servers (live nodes whose runtime serves it) against its mailbox.
 *  `lastHighest` is the highest claim seen at the last check, updated here; `wins` every claim won. */
export function checkFiler(name: string, box: Mailbox, servers: readonly { node: NodeName; epoch: bigint }[], lastHighest: Map<string, bigint>, wins: ReadonlyMap<bigint, NodeName>, violate: Violate): void {
  if (servers.length > 1) violate(`filer ${name} is served by ${servers.map((s) => `${s.node}@${s.epoch}`).join(' and ')}`);
  const last = lastHighest.get(name);
  if (last !== undefined && (box.highest === undefined || box.highest < last)) violate(`the highest claim of ${name} went from ${last} to ${box.highest}`);
  if (box.highest !== undefined) lastHighest.set(name, box.highest);
  for (const [epoch, owner] of wins) {
    if (box.claims.get(epoch) !== owner) violate(`claim ${epoch} of ${name}, won by ${owner}, now says ${box.claims.get(epoch)}`);
  }
  for (const { node, epoch } of servers) {
    if (box.claims.get(epoch) !== node) violate(`${node} serves ${name} at epoch ${epoch}, claimed by ${box.claims.get(epoch) ?? 'nobody'}`);
    if (box.highest !== epoch) violate(`${node} serves ${name} at epoch ${epoch} while epoch ${box.highest} is claimed (fenced)`);
  }
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
