// The core of one node: the takeover and giveback protocol of docs/design/takeover.md as a
// pure state machine. Layer: cluster/core (no I/O, no clock). `handle(input)` returns the
// actions to carry out; actions that take time report back as `done` inputs with their id.
//
// Roles per operation: the ACQUIRER is the node that does not serve the filer (the partner
// for a takeover, the home node for a giveback); it checks, negotiates, claims the next epoch
// and serves. The RELEASER serves the filer; it drains, releases and hands off. One operation
// runs at a time on a node. Safety does not depend on messages arriving: a node serves only
// at an epoch it claimed, and claims are exclusive (the mailbox), so when a deadline passes
// each side reads the mailbox and either completes, rolls back, or stands aside.
//
// Failure takeover (docs/design/fencing.md): a filer this node does not serve is taken over
// without its server's consent when the lease readings say the server no longer serves it
// (expired, or released without a hand-off to us), or when the interconnect went down and the
// probe found the partner's process gone. Either way the next epoch is claimed exclusively, so
// the two nodes racing for it (or a restarting server) end with one owner.

import { failoverDue, leaseRefusal, type FailoverDue, type FilerView } from './failover-rules.js';
import { GivebackGuard, type AutoGivebackConfig } from './giveback-guard.js';
import type {
  Action,
  ActionResult,
  ClusterEvent,
  CommandResult,
  Input,
  LeaseView,
  MailboxView,
  OperationCause,
  OperationKind,
  PeerMessage,
  PhaseTimings,
} from './types.js';

export interface CoreConfig {
  readonly node: string;
  readonly partner: string;
  readonly filers: readonly { readonly name: string; readonly home: string }[];
  readonly drainDeadlineMs: number;
  /** How long an operation may take before each side consults the mailbox. */
  readonly operationDeadlineMs: number;
  /** Distinguishes this start of the node in operation ids (a restarted node counts from 1 again). */
  readonly incarnation?: string;
  /**
   * How long a lease released without a hand-off to us (its holder stopped, or failed to serve)
   * is left to the filer's home node before the other node claims it: at a cold start of the
   * pair each home node then gets its own filers back. 0 when absent.
   */
  readonly releasedGraceMs?: number;
  /** Automatic giveback of this node's own filers; off when absent. */
  readonly autoGiveback?: AutoGivebackConfig;
}

/** Where one filer stands, as this node sees it. */
export type FilerPhase =
  | 'starting' // reading the mailbox at start-up
  | 'serving'
  | 'idle' // not served here: the partner serves it, or nobody does
  | 'checking' // acquirer: reading the mailbox before negotiating
  | 'negotiating' // acquirer: release-request sent
  | 'waiting' // acquirer: accepted, waiting for `released`
  | 'claiming'
  | 'activating' // acquirer or rollback: opening volumes, activating addresses
  | 'draining' // releaser
  | 'releasing' // releaser
  | 'released' // releaser: waiting for `acquired`
  | 'inspecting' // a deadline passed: reading the mailbox to decide
  | 'failed'; // an action failed; not served here; see `failure`

interface Operation {
  readonly id: string;
  readonly kind: OperationKind;
  readonly cause: OperationCause;
  /** Why a failure, forced or fault-driven operation started. */
  readonly reason: string | undefined;
  /** Failure takeover: the owner and epoch the lease or probe spoke of; the mailbox must agree. */
  readonly expected: { readonly owner: string; readonly epoch: bigint } | undefined;
  /** The hand-off to restore when serving (the one released to us, or our own). */
  handoffEpoch: bigint | undefined;
  readonly filer: string;
  readonly role: 'acquirer' | 'releaser';
  /** The operator's command, on the acquirer. */
  readonly command: string | undefined;
  readonly startedAtMs: number;
  readonly deadlineMs: number;
  phaseStartedAtMs: number;
  readonly phases: PhaseTimings;
  /** The epoch the releaser serves (and hands off at). */
  epoch: bigint;
  undrained: number;
  /** The releaser got as far as releasing: its hand-off for `epoch` is in the mailbox. */
  releasedHere: boolean;
}

interface Filer {
  readonly name: string;
  readonly home: string;
  phase: FilerPhase;
  /** The epoch this node serves it at, or the last epoch it knows of. */
  epoch: bigint | undefined;
  /** Who serves it, as far as this node knows. */
  servedBy: string | undefined;
  failure: string | undefined;
  /** The latest lease reading, while this node does not serve the filer. */
  lease: LeaseView | undefined;
  /**
   * The probe found the partner's process gone while it held `epoch` (cleared when the partner
   * is heard again); it says nothing of a later holder (a partner restarted at once).
   */
  partnerGone: FilerView['partnerGone'];
  /** A fault reported by this node's runtime while serving it, and when help was last asked. */
  fault: { readonly reason: string; askedAtMs: number | undefined } | undefined;
  /** When this node's lease of the filer last lapsed: it gives way to its partner for a while. */
  fencedAtMs: number | undefined;
  /** A hand-off of our own to restore when the filer is claimed again at start-up. */
  restoreHandoff: bigint | undefined;
  /** This node's own filers: the automatic giveback's guard. */
  readonly guard: GivebackGuard | undefined;
}

/** What an action id is waiting for. */
interface Pending {
  readonly filer: string;
  readonly step: 'start-inspect' | 'check' | 'failover-check' | 'deadline-inspect' | 'drain' | 'release' | 'claim' | 'serve' | 'probe';
  readonly epoch?: bigint;
}


/** Phases in which this node's runtime serves the filer (gates open or draining). */
const SERVED: readonly FilerPhase[] = ['serving', 'draining', 'releasing'];

export interface FilerStatus {
  readonly name: string;
  readonly home: string;
  readonly phase: FilerPhase;
  readonly epoch: bigint | undefined;
  readonly servedBy: string | undefined;
  readonly failure: string | undefined;
  readonly lease: LeaseView | undefined;
  /** Why a failure takeover is or is not under way, when the partner is not heard (fencing.md). */
  readonly takeover: string | undefined;
  /** A fault this node reported while serving the filer. */
  readonly fault: string | undefined;
  /** Why automatic giveback stopped for this filer (the ping-pong guard). */
  readonly autoGiveback: string | undefined;
}

export interface CoreStatus {
  readonly node: string;
  readonly partner: string;
  readonly peerUp: boolean;
  /** Whether this node's health check passes. */
  readonly healthy: boolean;
  readonly filers: readonly FilerStatus[];
  readonly operation:
    | { readonly id: string; readonly kind: OperationKind; readonly cause: OperationCause; readonly filer: string; readonly role: string }
    | undefined;
}

export class NodeCore {
  readonly #config: CoreConfig;
  readonly #filers = new Map<string, Filer>();
  readonly #pending = new Map<number, Pending>();
  /** Mailbox reads that failed, retried at the next tick. */
  readonly #retries: Pending[] = [];
  #operation: Operation | undefined;
  #peerUp = false;
  /** When the link last came up (automatic giveback) or went down (failure detection time). */
  #peerChangedAtMs = 0;
  #healthy = true;
  #healthySinceMs = 0;
  /** A probe found the partner's process gone since the link last went down. */
  #partnerKnownGone = false;
  #nextAction = 1;
  #nextOperation = 1;
  #nowMs = 0;
  #out: Action[] = [];

  constructor(config: CoreConfig) {
    this.#config = config;
    for (const { name, home } of config.filers) {
      const guard = home === config.node && config.autoGiveback !== undefined ? new GivebackGuard(config.autoGiveback) : undefined;
      this.#filers.set(name, {
        name,
        home,
        phase: 'starting',
        epoch: undefined,
        servedBy: undefined,
        failure: undefined,
        lease: undefined,
        partnerGone: undefined,
        fault: undefined,
        restoreHandoff: undefined,
        fencedAtMs: undefined,
        guard,
      });
    }
  }

  /** Start-up: read every filer's mailbox to learn which ones this node serves. */
  start(nowMs: number): Action[] {
    this.#nowMs = nowMs;
    this.#healthySinceMs = nowMs;
    for (const filer of this.#filers.values()) this.#act({ type: 'inspect', filer: filer.name }, { filer: filer.name, step: 'start-inspect' });
    return this.#flush();
  }

  handle(input: Input): Action[] {
    this.#nowMs = Math.max(this.#nowMs, input.nowMs);
    switch (input.type) {
      case 'tick':
        this.#retryFailedReads();
        this.#checkDeadline();
        this.#askForHelp();
        this.#considerAutoGiveback();
        break;
      case 'peer-up':
        this.#peerUp = true;
        this.#peerChangedAtMs = this.#nowMs;
        this.#partnerKnownGone = false;
        for (const filer of this.#filers.values()) filer.partnerGone = undefined;
        this.#askForHelp();
        break;
      case 'peer-down':
        this.#peerUp = false;
        this.#peerChangedAtMs = this.#nowMs;
        this.#onPeerDown();
        break;
      case 'message':
        this.#onMessage(input.message);
        break;
      case 'command':
        this.#onCommand(input.id, input.kind, input.filer, input.force === true);
        break;
      case 'done':
        this.#onDone(input.action, input.result);
        break;
      case 'lease':
        this.#onLease(input.filer, input.lease);
        break;
      case 'lease-lost':
        this.#onLeaseLost(input.filer, input.epoch, input.reason);
        break;
      case 'fault':
        this.#onFault(input.filer, input.reason);
        break;
      case 'healthy':
        if (!this.#healthy) this.#healthySinceMs = this.#nowMs;
        this.#healthy = true;
        break;
    }
    return this.#flush();
  }

  status(): CoreStatus {
    const op = this.#operation;
    return {
      node: this.#config.node,
      partner: this.#config.partner,
      peerUp: this.#peerUp,
      healthy: this.#healthy,
      filers: [...this.#filers.values()].map((filer) => ({
        name: filer.name,
        home: filer.home,
        phase: filer.phase,
        epoch: filer.epoch,
        servedBy: filer.servedBy,
        failure: filer.failure,
        lease: filer.lease,
        takeover: this.#takeoverNote(filer),
        fault: filer.fault?.reason,
        autoGiveback: filer.guard?.tripped,
      })),
      operation: op === undefined ? undefined : { id: op.id, kind: op.kind, cause: op.cause, filer: op.filer, role: op.role },
    };
  }

  // ---- operator commands (acquirer) ----

  #onCommand(command: string, kind: OperationKind, name: string, force: boolean): void {
    const filer = this.#filers.get(name);
    if (filer === undefined) return this.#reply(command, { ok: false, reason: `unknown filer "${name}"` });
    if (force) return this.#onForce(command, kind, filer);
    if (filer.phase === 'serving') return this.#reply(command, { ok: false, forward: true });
    const refusal = this.#refusal(kind, filer);
    if (refusal !== undefined) return this.#reply(command, { ok: false, reason: `${kind} ${name}: ${refusal}` });
    if (kind === 'giveback') filer.guard?.reset();
    this.#beginPlanned(kind, filer, command, 'operator', undefined);
  }

  /** Step 1 of a planned operation, on the acquirer. */
  #beginPlanned(kind: OperationKind, filer: Filer, command: string | undefined, cause: OperationCause, reason: string | undefined): void {
    this.#operation = this.#newOperation({ kind, cause, reason, filer: filer.name, role: 'acquirer', command });
    filer.phase = 'checking';
    this.#act({ type: 'inspect', filer: filer.name }, { filer: filer.name, step: 'check' });
  }

  #newOperation(fields: Pick<Operation, 'kind' | 'cause' | 'reason' | 'filer' | 'role' | 'command'> & { id?: string; epoch?: bigint; expected?: Operation['expected'] }): Operation {
    const id = fields.id ?? [this.#config.node, this.#config.incarnation, this.#nextOperation++].filter((part) => part !== undefined).join('-');
    return {
      kind: fields.kind,
      cause: fields.cause,
      reason: fields.reason,
      filer: fields.filer,
      role: fields.role,
      command: fields.command,
      id,
      expected: fields.expected,
      handoffEpoch: undefined,
      startedAtMs: this.#nowMs,
      deadlineMs: this.#nowMs + this.#config.operationDeadlineMs,
      phaseStartedAtMs: this.#nowMs,
      phases: {},
      epoch: fields.epoch ?? 0n,
      undrained: 0,
      releasedHere: false,
    };
  }

  /** `takeover --force`: a failure takeover now, allowed only once the lease says the server stopped. */
  #onForce(command: string, kind: OperationKind, filer: Filer): void {
    const refuse = (why: string) => this.#reply(command, { ok: false, reason: `${kind} ${filer.name} --force: ${why}` });
    if (kind !== 'takeover') return refuse('only a takeover can be forced');
    if (SERVED.includes(filer.phase)) return refuse(`${this.#config.node} serves it`);
    if (this.#operation !== undefined) return refuse(`another operation is running (${this.#operation.kind} of ${this.#operation.filer})`);
    if (filer.phase !== 'idle' && filer.phase !== 'failed') return refuse(`the filer is ${filer.phase} on ${this.#config.node}`);
    const due = failoverDue(filer, this.#pairView());
    if (due === undefined) return refuse(leaseRefusal(filer));
    this.#beginFailover(filer, due, 'force', command);
  }

  /** Why `kind` cannot start for `filer` here (step 1, part one: what this node knows). */
  #refusal(kind: OperationKind, filer: Filer): string | undefined {
    const me = this.#config.node;
    if (this.#operation !== undefined) return `another operation is running (${this.#operation.kind} of ${this.#operation.filer})`;
    const at = filer.epoch === undefined ? '' : ` at epoch ${filer.epoch}`;
    if (kind === 'takeover' && filer.home === me) {
      if (filer.servedBy === this.#config.partner) return `it is already taken over by ${filer.servedBy}${at}`;
      return `this node is its home; to bring it back, use giveback`;
    }
    if (kind === 'giveback' && filer.home !== me) {
      if (filer.servedBy === filer.home) return `it is already served by its home node ${filer.home}${at}`;
      return `this node is not its home (${filer.home} is)`;
    }
    if (filer.phase !== 'idle') return `the filer is ${filer.phase} on ${me}${filer.failure ? `: ${filer.failure}` : ''}`;
    if (!this.#peerUp) return `partner ${this.#config.partner} is down or unreachable (a forced takeover, --force, is allowed once its lease has expired)`;
    return undefined;
  }

  /** Step 1, part two: the mailbox must show the partner serving the filer as expected. */
  #checked(filer: Filer, mailbox: MailboxView): void {
    const op = this.#operation!;
    const partner = this.#config.partner;
    const expected = op.kind === 'takeover' ? 'normal' : 'taken-over';
    let reason: string | undefined;
    if (mailbox.epoch === undefined || mailbox.owner !== partner) {
      reason = `the mailbox shows it owned by ${mailbox.owner ?? 'no node'}, not ${partner}`;
    } else if (mailbox.state !== expected) {
      reason = op.kind === 'takeover' && mailbox.state === 'taken-over' ? 'it is already taken over' : `it is ${mailbox.state ?? 'in no state'}, not ${expected}`;
    }
    if (reason !== undefined) return this.#fail(filer, `${op.kind} ${filer.name}: ${reason}`, 'idle');
    op.epoch = mailbox.epoch!;
    this.#phaseDone('check');
    filer.phase = 'negotiating';
    filer.epoch = mailbox.epoch;
    this.#send({ type: 'release-request', op: op.id, kind: op.kind, filer: filer.name, epoch: op.epoch, cause: op.cause });
  }

  // ---- messages ----

  #onMessage(message: PeerMessage): void {
    if (message.type === 'release-request') return this.#onReleaseRequest(message);
    if (message.type === 'help') return this.#onHelp(message);
    const op = this.#operation;
    const filer = this.#filers.get(message.filer);
    if (message.type === 'acquired' && filer !== undefined && op?.id !== message.op) return this.#learnOwner(filer, message.epoch, this.#config.partner);
    if (op === undefined || op.id !== message.op || filer === undefined) return; // stale: an operation that ended
    switch (message.type) {
      case 'release-refused':
        if (filer.phase === 'negotiating' || filer.phase === 'waiting') this.#fail(filer, `${op.kind} ${filer.name}: refused by ${this.#config.partner}: ${message.reason}`, 'idle');
        return;
      case 'release-accepted':
        if (filer.phase === 'negotiating') {
          this.#phaseDone('negotiate');
          filer.phase = 'waiting';
        }
        return;
      case 'released':
        if (filer.phase !== 'negotiating' && filer.phase !== 'waiting') return;
        if (op.phases.negotiate === undefined) this.#phaseDone('negotiate');
        op.phases.drain = message.drainMs;
        op.phases.release = message.releaseMs;
        op.undrained = message.undrained;
        op.phaseStartedAtMs = this.#nowMs;
        op.handoffEpoch = message.epoch;
        return this.#claimNext(filer, message.epoch);
      case 'acquired':
        if (filer.phase !== 'released') return;
        Object.assign(op.phases, message.phases);
        filer.phase = 'idle';
        filer.epoch = message.epoch;
        filer.servedBy = this.#config.partner;
        this.#finish(filer, 'completed', `released to ${this.#config.partner}`);
        return;
    }
  }

  /** The releaser's side of step 2. */
  #onReleaseRequest(message: Extract<PeerMessage, { type: 'release-request' }>): void {
    const filer = this.#filers.get(message.filer);
    const refuse = (reason: string) => this.#send({ type: 'release-refused', op: message.op, filer: message.filer, reason });
    if (filer === undefined) return refuse(`unknown filer "${message.filer}"`);
    if (this.#operation?.id === message.op) return; // a duplicate of the request being carried out
    if (this.#operation !== undefined) return refuse(`another operation is running (${this.#operation.kind} of ${this.#operation.filer})`);
    if (filer.phase !== 'serving') return refuse(`${this.#config.node} does not serve ${filer.name} (it is ${filer.phase})`);
    if (filer.epoch !== message.epoch) return refuse(`${this.#config.node} serves ${filer.name} at epoch ${filer.epoch}, not ${message.epoch}`);
    const cause = message.cause ?? (filer.fault === undefined ? 'operator' : 'fault');
    this.#operation = this.#newOperation({ id: message.op, kind: message.kind, cause, reason: filer.fault?.reason, filer: filer.name, role: 'releaser', command: undefined, epoch: message.epoch });
    this.#send({ type: 'release-accepted', op: message.op, filer: filer.name });
    filer.phase = 'draining';
    this.#act({ type: 'drain', filer: filer.name, deadlineMs: this.#config.drainDeadlineMs }, { filer: filer.name, step: 'drain' });
  }

  // ---- completions ----

  #onDone(id: number, result: ActionResult): void {
    const pending = this.#pending.get(id);
    if (pending === undefined) return;
    this.#pending.delete(id);
    const filer = this.#filers.get(pending.filer)!;
    if (!result.ok) return this.#actionFailed(filer, pending, result.error);
    switch (pending.step) {
      case 'start-inspect':
        return this.#started(filer, result.mailbox!);
      case 'check':
        return this.#checked(filer, result.mailbox!);
      case 'failover-check':
        return this.#failoverChecked(filer, result.mailbox!);
      case 'probe':
        return this.#probed(filer, result.probe!);
      case 'deadline-inspect':
        return this.#inspected(filer, result.mailbox!);
      case 'drain':
        return this.#drained(filer, result.drained?.inProgress ?? 0);
      case 'release':
        return this.#releasedHere(filer);
      case 'claim':
        return this.#claimed(filer, pending.epoch!, result.claim!);
      case 'serve':
        return this.#serving(filer, pending.epoch!);
    }
  }

  /** Start-up: serve what the mailbox says is ours; a fresh filer is claimed by its home. */
  #started(filer: Filer, mailbox: MailboxView): void {
    const me = this.#config.node;
    filer.epoch = mailbox.epoch;
    filer.servedBy = mailbox.owner;
    if (mailbox.epoch === undefined) {
      if (filer.home !== me) return void (filer.phase = 'idle');
      return this.#claim(filer, 1n);
    }
    if (mailbox.owner !== me) return void (filer.phase = 'idle');
    // Ours, from before this start (served, or released and never acquired): serve it again at a
    // new epoch, never at the old one. The partner may be taking it over right now (the probe
    // found us gone): the exclusive claim of the next epoch decides between us.
    filer.restoreHandoff = mailbox.state === 'released' && mailbox.handoff ? mailbox.epoch : undefined;
    this.#claim(filer, mailbox.epoch + 1n);
  }

  #drained(filer: Filer, inProgress: number): void {
    const op = this.#operation!;
    op.undrained = inProgress;
    this.#phaseDone('drain');
    filer.phase = 'releasing';
    this.#act({ type: 'release', filer: filer.name, epoch: op.epoch }, { filer: filer.name, step: 'release' });
  }

  /** Step 4 is done on the releaser: tell the acquirer. */
  #releasedHere(filer: Filer): void {
    const op = this.#operation!;
    op.releasedHere = true;
    op.handoffEpoch = op.epoch;
    this.#phaseDone('release');
    filer.phase = 'released';
    filer.servedBy = undefined;
    this.#send({
      type: 'released',
      op: op.id,
      filer: filer.name,
      epoch: op.epoch,
      drainMs: op.phases.drain ?? 0,
      releaseMs: op.phases.release ?? 0,
      undrained: op.undrained,
    });
  }

  #claimNext(filer: Filer, releasedEpoch: bigint): void {
    this.#operation!.epoch = releasedEpoch;
    this.#claim(filer, releasedEpoch + 1n);
  }

  #claim(filer: Filer, epoch: bigint): void {
    filer.phase = 'claiming';
    this.#act({ type: 'claim', filer: filer.name, epoch }, { filer: filer.name, step: 'claim', epoch });
  }

  #claimed(filer: Filer, epoch: bigint, claim: { won: boolean; holder: string }): void {
    if (!claim.won) {
      filer.epoch = epoch;
      filer.servedBy = claim.holder;
      return this.#fail(filer, `epoch ${epoch} of ${filer.name} was claimed by ${claim.holder}`, 'idle');
    }
    if (this.#operation?.filer === filer.name) this.#phaseDone('claim');
    filer.phase = 'activating';
    // The hand-off to restore: the one released to us, or our own when we take the filer back
    // after releasing it; none after a release that failed before writing it.
    const op = this.#operation?.filer === filer.name ? this.#operation : undefined;
    const handoff = op === undefined ? filer.restoreHandoff : op.handoffEpoch;
    filer.restoreHandoff = undefined;
    this.#serve(filer, epoch, handoff);
  }

  #serve(filer: Filer, epoch: bigint, handoffEpoch: bigint | undefined): void {
    const state = filer.home === this.#config.node ? 'normal' : 'taken-over';
    this.#act({ type: 'serve', filer: filer.name, epoch, handoffEpoch, state }, { filer: filer.name, step: 'serve', epoch });
  }

  #serving(filer: Filer, epoch: bigint): void {
    filer.phase = 'serving';
    filer.epoch = epoch;
    filer.servedBy = this.#config.node;
    filer.failure = undefined;
    filer.lease = undefined;
    filer.partnerGone = undefined;
    filer.fault = undefined;
    const op = this.#operation;
    if (op === undefined || op.filer !== filer.name) {
      this.#record({ kind: 'start', filer: filer.name, outcome: 'completed', epoch, detail: `serving at epoch ${epoch}` });
      return;
    }
    this.#phaseDone('serve');
    if (op.role === 'releaser') return this.#finish(filer, 'rolled-back', `took ${filer.name} back at epoch ${epoch}: the partner did not acquire it`);
    op.phases.total = Math.round(this.#nowMs - op.startedAtMs);
    this.#send({ type: 'acquired', op: op.id, filer: filer.name, epoch, phases: { ...op.phases } });
    const undrained = op.undrained > 0 ? `; drain deadline passed with ${op.undrained} calls in progress` : '';
    const why = op.reason === undefined ? '' : ` (${op.cause}: ${op.reason})`;
    this.#finish(filer, 'completed', `${filer.name} served by ${this.#config.node}${undrained}${why}`);
  }

  // ---- deadlines and faults ----

  #checkDeadline(): void {
    const op = this.#operation;
    if (op === undefined || this.#nowMs < op.deadlineMs) return;
    const filer = this.#filers.get(op.filer)!;
    const waitingOnPartner = op.role === 'acquirer' ? filer.phase === 'negotiating' || filer.phase === 'waiting' : filer.phase === 'released';
    if (waitingOnPartner) this.#inspectAfterDeadline(filer);
  }

  /** A partner that went away will not answer: decide from the mailbox now, not at the deadline. */
  #onPeerDown(): void {
    // Is it gone (kill -9: its sockets closed) or only silent? Only the first allows claiming early.
    for (const filer of this.#filers.values()) {
      if (filer.servedBy === this.#config.partner && !SERVED.includes(filer.phase)) this.#act({ type: 'probe', filer: filer.name }, { filer: filer.name, step: 'probe' });
    }
    const op = this.#operation;
    if (op === undefined) return;
    const filer = this.#filers.get(op.filer)!;
    const waitingOnPartner = op.role === 'acquirer' ? filer.phase === 'negotiating' || filer.phase === 'waiting' : filer.phase === 'released';
    if (waitingOnPartner) this.#inspectAfterDeadline(filer);
  }

  #inspectAfterDeadline(filer: Filer): void {
    filer.phase = 'inspecting';
    this.#act({ type: 'inspect', filer: filer.name }, { filer: filer.name, step: 'deadline-inspect' });
  }

  /** The partner went silent mid-operation: complete, roll back or stand aside, by the mailbox. */
  #inspected(filer: Filer, mailbox: MailboxView): void {
    const op = this.#operation!;
    const partner = this.#config.partner;
    if (op.role === 'acquirer') {
      // The releaser got as far as releasing (record and hand-off written): complete.
      if (mailbox.state === 'released' && mailbox.epoch === op.epoch && mailbox.owner === partner && mailbox.handoff) {
        op.phaseStartedAtMs = this.#nowMs;
        return this.#claimNext(filer, op.epoch);
      }
      return this.#fail(filer, `${op.kind} ${filer.name}: ${partner} did not release it in time; nothing was claimed`, 'idle');
    }
    // Releaser: if the acquirer claimed the next epoch, it owns the filer; otherwise take it back.
    if (mailbox.epoch !== undefined && mailbox.epoch > op.epoch) {
      filer.phase = 'idle';
      filer.epoch = mailbox.epoch;
      filer.servedBy = mailbox.owner;
      return this.#finish(filer, 'completed', `${mailbox.owner ?? 'the partner'} claimed epoch ${mailbox.epoch}; no acknowledgement came`);
    }
    op.phaseStartedAtMs = this.#nowMs;
    this.#claim(filer, op.epoch + 1n);
  }

  #actionFailed(filer: Filer, pending: Pending, error: string): void {
    const what = `${pending.step} of ${filer.name} failed: ${error}`;
    const op = this.#operation?.filer === filer.name ? this.#operation : undefined;
    switch (pending.step) {
      case 'start-inspect':
      case 'deadline-inspect':
        // Reading the mailbox again is harmless: retried on the next tick.
        this.#retries.push(pending);
        return;
      case 'probe':
        return; // not known to be gone: the lease decides
      case 'failover-check':
        return this.#fail(filer, what, 'idle');
      case 'drain':
        // Nothing was released: the filer stays served here; the acquirer learns at once.
        if (op !== undefined) this.#send({ type: 'release-refused', op: op.id, filer: filer.name, reason: what });
        return this.#fail(filer, what, 'serving');
      case 'release':
        // Half released: the acquirer must not claim; take the filer back at the next epoch.
        if (op !== undefined) {
          this.#send({ type: 'release-refused', op: op.id, filer: filer.name, reason: what });
          op.phaseStartedAtMs = this.#nowMs;
          return this.#claim(filer, op.epoch + 1n);
        }
        return this.#fail(filer, what, 'failed');
      case 'check':
        return this.#fail(filer, what, 'idle');
      case 'claim':
      case 'serve':
        // A failure takeover that could not claim or serve leaves the filer to the next lease
        // reading (the claim may have been written: that reading then shows it ours, unserved).
        return this.#fail(filer, what, op?.cause === 'failure' ? 'idle' : 'failed');
    }
  }

  // ---- failure takeover (fencing.md) ----

  #onLease(name: string, lease: LeaseView): void {
    const filer = this.#filers.get(name);
    if (filer === undefined || SERVED.includes(filer.phase)) return;
    filer.lease = lease;
    // A lease being renewed names who serves the filer now (a takeover we did not take part in).
    if (lease.state === 'fresh' && lease.owner !== undefined && lease.owner !== this.#config.node) this.#learnOwner(filer, lease.epoch, lease.owner);
    this.#considerFailover(filer);
  }


  #pairView() {
    return { node: this.#config.node, partner: this.#config.partner, peerUp: this.#peerUp, releasedGraceMs: this.#config.releasedGraceMs ?? 0 };
  }

  #considerFailover(filer: Filer): void {
    if (this.#operation !== undefined || filer.phase !== 'idle') return;
    // A node whose lease lapsed (it was stalled, or lost its mailbox) does not take the filer
    // straight back: for an operation deadline its partner has it, unless the partner is gone.
    const fenced = filer.fencedAtMs;
    const partnerGone = filer.partnerGone !== undefined || (this.#partnerKnownGone && !this.#peerUp);
    if (fenced !== undefined && !partnerGone && this.#nowMs - fenced < this.#config.operationDeadlineMs) return;
    const due = failoverDue(filer, this.#pairView());
    if (due !== undefined) this.#beginFailover(filer, due, 'failure', undefined);
  }

  #beginFailover(filer: Filer, due: FailoverDue, cause: OperationCause, command: string | undefined): void {
    const kind: OperationKind = 'takeover';
    const op = this.#newOperation({ kind, cause, reason: due.reason, filer: filer.name, role: 'acquirer', command, expected: due.expected, epoch: due.expected.epoch });
    // How long the failure took to detect: from the partner's interconnect going silent.
    if (!this.#peerUp) op.phases.detect = Math.round(this.#nowMs - this.#peerChangedAtMs);
    this.#operation = op;
    filer.phase = 'checking';
    filer.failure = undefined;
    this.#act({ type: 'inspect', filer: filer.name }, { filer: filer.name, step: 'failover-check' });
  }

  /** The mailbox must still show what the lease or probe spoke of; otherwise someone moved first. */
  #failoverChecked(filer: Filer, mailbox: MailboxView): void {
    const op = this.#operation!;
    const expected = op.expected!;
    const me = this.#config.node;
    this.#phaseDone('check');
    if (mailbox.epoch !== undefined && mailbox.owner === me) {
      // Ours and not served here (our lease lapsed, or a claim of ours was left unserved).
      op.epoch = mailbox.epoch;
      return this.#claim(filer, mailbox.epoch + 1n);
    }
    if (mailbox.epoch !== expected.epoch || mailbox.owner !== expected.owner) {
      this.#learnOwner(filer, mailbox.epoch, mailbox.owner);
      filer.phase = 'idle';
      const moved = `the mailbox shows ${mailbox.owner ?? 'no owner'} at epoch ${mailbox.epoch ?? 'none'}, not ${expected.owner} at ${expected.epoch}`;
      if (op.command !== undefined) return this.#finish(filer, 'failed', `takeover ${filer.name}: ${moved}`);
      this.#operation = undefined; // a reading that came too late: nothing to report
      return;
    }
    op.handoffEpoch = mailbox.state === 'released' && mailbox.handoff ? mailbox.epoch : undefined;
    this.#claim(filer, expected.epoch + 1n);
  }

  /** What this node learnt of a filer it does not serve: a newer epoch and its owner. */
  #learnOwner(filer: Filer, epoch: bigint | undefined, owner: string | undefined): void {
    if (epoch === undefined || SERVED.includes(filer.phase)) return;
    if (filer.epoch !== undefined && epoch < filer.epoch) return;
    if (filer.epoch !== undefined && epoch > filer.epoch) filer.partnerGone = undefined;
    filer.epoch = epoch;
    filer.servedBy = owner;
  }

  #probed(filer: Filer, probe: { gone: boolean; detail: string }): void {
    if (this.#peerUp || !probe.gone) return;
    this.#partnerKnownGone = true;
    filer.partnerGone = { detail: probe.detail, epoch: filer.epoch };
    this.#considerFailover(filer);
  }

  /** What status says of a filer the partner serves while the partner is not heard. */
  #takeoverNote(filer: Filer): string | undefined {
    if (this.#peerUp || SERVED.includes(filer.phase)) return undefined;
    if (this.#operation?.filer === filer.name && this.#operation.cause !== 'operator') return `failure takeover under way: ${this.#operation.reason}`;
    if (filer.servedBy !== this.#config.partner) return undefined;
    if (failoverDue(filer, this.#pairView()) !== undefined) return 'failure takeover due';
    return `interconnect down, takeover disabled: ${leaseRefusal(filer)}`;
  }


  /** This node's lease lapsed: its runtime has stopped serving the filer already. */
  #onLeaseLost(name: string, epoch: bigint, reason: string): void {
    const filer = this.#filers.get(name);
    if (filer === undefined || filer.epoch !== epoch || !SERVED.includes(filer.phase)) return;
    for (const [id, pending] of this.#pending) if (pending.filer === name) this.#pending.delete(id);
    filer.phase = 'idle';
    filer.servedBy = undefined;
    filer.fault = undefined;
    filer.fencedAtMs = this.#nowMs;
    const detail = `stopped serving ${name} at epoch ${epoch}: ${reason}`;
    const op = this.#operation?.filer === name ? this.#operation : undefined;
    if (op !== undefined) {
      if (op.role === 'releaser') this.#send({ type: 'release-refused', op: op.id, filer: name, reason: detail });
      this.#finish(filer, 'failed', detail);
    }
    this.#record({ kind: 'fence', filer: name, outcome: 'completed', epoch, detail });
  }

  // ---- negotiated takeover (US 6,920,580) ----

  #onFault(name: string | undefined, reason: string): void {
    if (name === undefined) this.#healthy = false;
    const targets = name === undefined ? [...this.#filers.values()] : [this.#filers.get(name)].filter((f): f is Filer => f !== undefined);
    for (const filer of targets) {
      if (filer.phase !== 'serving' || filer.fault !== undefined) continue;
      filer.fault = { reason, askedAtMs: undefined };
      this.#record({ kind: 'fault', filer: filer.name, outcome: 'completed', ...(filer.epoch === undefined ? {} : { epoch: filer.epoch }), detail: reason });
    }
    this.#askForHelp();
  }

  /** Asks the partner to take over each faulty filer served here; again after an operation deadline. */
  #askForHelp(): void {
    if (!this.#peerUp) return;
    for (const filer of this.#filers.values()) {
      const fault = filer.fault;
      if (fault === undefined || filer.phase !== 'serving' || filer.epoch === undefined) continue;
      if (fault.askedAtMs !== undefined && this.#nowMs - fault.askedAtMs < this.#config.operationDeadlineMs) continue;
      fault.askedAtMs = this.#nowMs;
      this.#send({ type: 'help', filer: filer.name, epoch: filer.epoch, reason: fault.reason });
    }
  }

  /** The partner asks us to take over a filer it cannot serve: a planned operation, if we can. */
  #onHelp(message: Extract<PeerMessage, { type: 'help' }>): void {
    const filer = this.#filers.get(message.filer);
    if (filer === undefined || this.#operation !== undefined || filer.phase !== 'idle' || !this.#healthy) return;
    this.#learnOwner(filer, message.epoch, this.#config.partner);
    const kind: OperationKind = filer.home === this.#config.node ? 'giveback' : 'takeover';
    if (this.#refusal(kind, filer) !== undefined) return;
    this.#beginPlanned(kind, filer, undefined, 'fault', `${this.#config.partner} asked for it: ${message.reason}`);
  }

  // ---- automatic giveback ----

  #considerAutoGiveback(): void {
    if (this.#operation !== undefined || !this.#peerUp || !this.#healthy) return;
    const steadySinceMs = Math.max(this.#peerChangedAtMs, this.#healthySinceMs);
    for (const filer of this.#filers.values()) {
      const guard = filer.guard;
      if (guard === undefined || filer.phase !== 'idle' || filer.servedBy !== this.#config.partner) continue;
      const trip = (reason: string) => this.#record({ kind: 'giveback', cause: 'auto', filer: filer.name, outcome: 'failed', detail: reason });
      if (!guard.mayStart(this.#nowMs, steadySinceMs, trip) || this.#refusal('giveback', filer) !== undefined) continue;
      guard.started(this.#nowMs);
      return this.#beginPlanned('giveback', filer, undefined, 'auto', `back and healthy for ${guard.delayMs} ms`);
    }
  }

  #retryFailedReads(): void {
    for (const pending of this.#retries.splice(0)) this.#act({ type: 'inspect', filer: pending.filer }, pending);
  }

  // ---- bookkeeping ----

  #fail(filer: Filer, reason: string, phase: FilerPhase): void {
    filer.phase = phase;
    filer.failure = phase === 'failed' ? reason : undefined;
    if (this.#operation?.filer === filer.name) {
      if (this.#operation.cause === 'auto') filer.guard?.failed(this.#nowMs);
      return this.#finish(filer, 'failed', reason);
    }
    this.#record({ kind: 'start', filer: filer.name, outcome: 'failed', detail: reason });
    return;
  }

  #finish(filer: Filer, outcome: ClusterEvent['outcome'], detail: string): void {
    const op = this.#operation!;
    // The releaser keeps the acquirer's total (it started earlier) when `acquired` brought it.
    op.phases.total ??= Math.round(this.#nowMs - op.startedAtMs);
    this.#operation = undefined;
    const event = this.#record({
      kind: outcome === 'rolled-back' ? 'rollback' : op.kind,
      cause: op.cause,
      filer: filer.name,
      outcome,
      ...(filer.epoch === undefined ? {} : { epoch: filer.epoch }),
      phases: { ...op.phases },
      detail: `${op.role}: ${detail}`,
    });
    if (op.command !== undefined) this.#reply(op.command, outcome === 'completed' ? { ok: true, event } : { ok: false, reason: detail });
  }

  #phaseDone(phase: keyof PhaseTimings): void {
    const op = this.#operation;
    if (op === undefined) return;
    op.phases[phase] = Math.round(this.#nowMs - op.phaseStartedAtMs);
    op.phaseStartedAtMs = this.#nowMs;
  }

  #record(event: Omit<ClusterEvent, 'atMs' | 'node'>): ClusterEvent {
    const full: ClusterEvent = { atMs: this.#nowMs, node: this.#config.node, ...event };
    this.#out.push({ type: 'record', event: full });
    return full;
  }

  #reply(command: string, result: CommandResult): void {
    this.#out.push({ type: 'reply', command, result });
  }

  #send(message: PeerMessage): void {
    this.#out.push({ type: 'send', message });
  }

  /** Emits an action that reports back, remembering what its completion continues. */
  #act(action: DistributiveOmit<Extract<Action, { id: number }>, 'id'>, pending: Pending): void {
    const id = this.#nextAction++;
    this.#pending.set(id, pending);
    this.#out.push({ ...action, id } as Action);
  }

  #flush(): Action[] {
    const out = this.#out;
    this.#out = [];
    return out;
  }
}

type DistributiveOmit<T, K extends keyof never> = T extends unknown ? Omit<T, K> : never;
