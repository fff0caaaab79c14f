// The shared storage of the cluster simulation (test/sim/cluster-sim.ts): each filer's mailbox
// (claims, state record, hand-offs, lease.json) and volume, and what the simulated runtime's
// actions do to them (docs/design/takeover.md, "The mailbox"). Claims are exclusive: every claim
// ever won is remembered, and no epoch may be won twice. A node whose mailbox is unreachable has
// every storage action fail (its drain and probe need no storage).

import type { ActionResult, MailboxView } from '../../src/cluster/core/types.js';
import { checkAck, checkFiler, type Violate } from './invariants.js';
import type { Prng } from './prng.js';
import { FILERS, type IdAction, type Mailbox, type NodeName, type NodeState, type Volume } from './sim-model.js';

export class SimStorage {
  readonly #prng: Prng;
  readonly #violate: Violate;
  readonly #mailboxes = new Map<string, Mailbox>();
  readonly #volumes = new Map<string, Volume>();
  /** Every claim won, as the cores were told: no epoch may have two. */
  readonly #wins = new Map<string, Map<bigint, NodeName>>();
  readonly #lastHighest = new Map<string, bigint>();

  constructor(prng: Prng, violate: Violate) {
    this.#prng = prng;
    this.#violate = violate;
    for (const { name } of FILERS) {
      this.#mailboxes.set(name, { claims: new Map(), highest: undefined, record: undefined, handoffs: new Set(), lease: undefined });
      this.#volumes.set(name, { acked: 0, lastEpoch: undefined });
      this.#wins.set(name, new Map());
    }
  }

  box(filer: string): Mailbox {
    const box = this.#mailboxes.get(filer);
    if (box === undefined) this.#violate(`the core names filer ${filer}, which has no mailbox`);
    return box;
  }

  volume(filer: string): Volume {
    return this.#volumes.get(filer)!;
  }

  /**
   * The simulated runtime carries out `action` for `node` and reports its result: `injected` is a
   * failure chosen for it (a claim failing so may have been written all the same, if `mayLand`).
   * `partnerAlive`
   * answers the probe: refused everywhere only when the partner's process is not running (a
   * stopped one still accepts connections).
   */
  perform(node: NodeState, action: IdAction, inProgress: number, injected: { error: string; mayLand: boolean } | undefined, partnerAlive: boolean): ActionResult {
    const box = this.box(action.filer);
    const storage = action.type !== 'drain' && action.type !== 'probe';
    const failure = storage && node.mailboxDown ? 'mailbox unreachable' : injected?.error;
    const leases = node.leases!;
    switch (action.type) {
      case 'inspect':
        return failure !== undefined ? { ok: false, error: failure } : { ok: true, mailbox: this.#view(box) };
      case 'drain':
        return failure !== undefined ? { ok: false, error: failure } : { ok: true, drained: { inProgress } };
      case 'probe':
        return failure !== undefined ? { ok: false, error: failure } : { ok: true, probe: { gone: !partnerAlive, detail: partnerAlive ? 'accepted' : 'refused' } };
      case 'release': {
        if (node.serving.get(action.filer) !== action.epoch) {
          // Its lease lapsed while the release ran: the runtime stopped serving it already.
          if (node.fenced.get(action.filer) === action.epoch) return { ok: false, error: 'not served here: its lease lapsed' };
          this.#violate(`${node.name} releases ${action.filer} at epoch ${action.epoch}, which it does not serve`);
        }
        // Gates stopped first: even a failed release leaves the filer not served here.
        node.serving.delete(action.filer);
        leases.release(action.filer, action.epoch);
        if (failure !== undefined) return { ok: false, error: failure };
        // Mailbox.writeHandoff and writeState refuse an epoch below the highest claim: a node
        // that was stopped past its lease must not overwrite the record of the new owner.
        if (box.highest! > action.epoch) return { ok: false, error: `fenced: epoch ${box.highest} is claimed` };
        box.handoffs.add(action.epoch);
        box.record = { epoch: action.epoch, owner: node.name, state: 'released' };
        return { ok: true };
      }
      case 'claim': {
        if (failure !== undefined) {
          if (failure === injected?.error && injected.mayLand && this.#prng.chance(0.5)) this.claim(action.filer, action.epoch, node.name); // written, then an error
          return { ok: false, error: failure };
        }
        return { ok: true, claim: this.claim(action.filer, action.epoch, node.name) };
      }
      case 'serve': {
        if (node.serving.has(action.filer)) this.#violate(`${node.name} is asked to serve ${action.filer}, which it serves already`);
        if (box.claims.get(action.epoch) !== node.name) this.#violate(`${node.name} is asked to serve ${action.filer} at epoch ${action.epoch}, which it did not claim`);
        const keeper = leases.keeperOf(action.filer);
        if (keeper?.epoch !== action.epoch) this.#violate(`${node.name} serves ${action.filer} at epoch ${action.epoch} with no lease of it`);
        const error = box.highest! > action.epoch ? 'fenced' : keeper.lapsed ? 'its lease lapsed before it was served' : failure;
        if (error !== undefined) {
          // Not served here after all: release the lease so the partner need not wait it out.
          leases.release(action.filer, action.epoch);
          return { ok: false, error };
        }
        if (action.handoffEpoch !== undefined && !box.handoffs.has(action.handoffEpoch)) this.#violate(`${node.name} restores hand-off ${action.handoffEpoch} of ${action.filer}, which is not in the mailbox`);
        node.serving.set(action.filer, action.epoch);
        node.fenced.delete(action.filer);
        box.record = { epoch: action.epoch, owner: node.name, state: action.state };
        return { ok: true };
      }
    }
  }

  /** A node died with these actions under way: each may or may not have reached the mailbox. */
  crashed(node: NodeState): void {
    for (const action of node.inflight.values()) {
      if (!this.#prng.chance(0.5) || node.mailboxDown) continue;
      const box = this.box(action.filer);
      if (action.type === 'claim') this.claim(action.filer, action.epoch, node.name);
      if (action.type === 'release' && box.highest === action.epoch) {
        box.handoffs.add(action.epoch);
        if (this.#prng.chance(0.5)) box.record = { epoch: action.epoch, owner: node.name, state: 'released' };
      }
      if (action.type === 'serve' && box.claims.get(action.epoch) === node.name && box.highest === action.epoch) box.record = { epoch: action.epoch, owner: node.name, state: action.state };
    }
  }

  /** O_CREAT | O_EXCL: the first claim of an epoch above every other wins. */
  claim(filer: string, epoch: bigint, owner: NodeName): { won: boolean; holder: string } {
    const box = this.box(filer);
    const holder = box.claims.get(epoch);
    if (holder !== undefined) return { won: false, holder };
    if (box.highest !== undefined && epoch < box.highest) return { won: false, holder: box.claims.get(box.highest)! };
    box.claims.set(epoch, owner);
    box.highest = epoch;
    const wins = this.#wins.get(filer)!;
    if (wins.has(epoch)) this.#violate(`epoch ${epoch} of ${filer} won twice`);
    wins.set(epoch, owner);
    return { won: true, holder: owner };
  }

  /** The invariants of every filer, given who serves it now (invariants.ts). */
  check(servers: (filer: string) => { node: NodeName; epoch: bigint }[]): void {
    for (const { name } of FILERS) checkFiler(name, this.box(name), servers(name), this.#lastHighest, this.#wins.get(name)!, this.#violate);
  }

  /** A client's write to `filer`, acknowledged by `node` at `epoch` through its lease guard. */
  acknowledge(filer: string, node: NodeName, epoch: bigint, servers: { node: NodeName; epoch: bigint }[]): void {
    const volume = this.volume(filer);
    checkAck(filer, node, epoch, servers, this.box(filer), volume, this.#violate);
    volume.acked++;
    volume.lastEpoch = epoch;
  }

  #view(box: Mailbox): MailboxView {
    const epoch = box.highest;
    return { epoch, owner: epoch === undefined ? undefined : box.claims.get(epoch), state: box.record?.state, handoff: epoch !== undefined && box.handoffs.has(epoch) };
  }
}
