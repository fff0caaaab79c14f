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

import type {
  Action,
  ActionResult,
  ClusterEvent,
  CommandResult,
  Input,
  MailboxView,
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
}

/** What an action id is waiting for. */
interface Pending {
  readonly filer: string;
  readonly step: 'start-inspect' | 'check' | 'deadline-inspect' | 'drain' | 'release' | 'claim' | 'serve';
  readonly epoch?: bigint;
}

export interface FilerStatus {
  readonly name: string;
  readonly home: string;
  readonly phase: FilerPhase;
  readonly epoch: bigint | undefined;
  readonly servedBy: string | undefined;
  readonly failure: string | undefined;
}

export interface CoreStatus {
  readonly node: string;
  readonly partner: string;
  readonly peerUp: boolean;
  readonly filers: readonly FilerStatus[];
  readonly operation: { readonly id: string; readonly kind: OperationKind; readonly filer: string; readonly role: string } | undefined;
}

export class NodeCore {
  readonly #config: CoreConfig;
  readonly #filers = new Map<string, Filer>();
  readonly #pending = new Map<number, Pending>();
  /** Mailbox reads that failed, retried at the next tick. */
  readonly #retries: Pending[] = [];
  #operation: Operation | undefined;
  #peerUp = false;
  #nextAction = 1;
  #nextOperation = 1;
  #nowMs = 0;
  #out: Action[] = [];

  constructor(config: CoreConfig) {
    this.#config = config;
    for (const { name, home } of config.filers) {
      this.#filers.set(name, { name, home, phase: 'starting', epoch: undefined, servedBy: undefined, failure: undefined });
    }
  }

  /** Start-up: read every filer's mailbox to learn which ones this node serves. */
  start(nowMs: number): Action[] {
    this.#nowMs = nowMs;
    for (const filer of this.#filers.values()) this.#act({ type: 'inspect', filer: filer.name }, { filer: filer.name, step: 'start-inspect' });
    return this.#flush();
  }

  handle(input: Input): Action[] {
    this.#nowMs = Math.max(this.#nowMs, input.nowMs);
    switch (input.type) {
      case 'tick':
        this.#retryFailedReads();
        this.#checkDeadline();
        break;
      case 'peer-up':
        this.#peerUp = true;
        break;
      case 'peer-down':
        this.#peerUp = false;
        this.#onPeerDown();
        break;
      case 'message':
        this.#onMessage(input.message);
        break;
      case 'command':
        this.#onCommand(input.id, input.kind, input.filer);
        break;
      case 'done':
        this.#onDone(input.action, input.result);
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
      filers: [...this.#filers.values()].map(({ name, home, phase, epoch, servedBy, failure }) => ({ name, home, phase, epoch, servedBy, failure })),
      operation: op === undefined ? undefined : { id: op.id, kind: op.kind, filer: op.filer, role: op.role },
    };
  }

  // ---- operator commands (acquirer) ----

  #onCommand(command: string, kind: OperationKind, name: string): void {
    const filer = this.#filers.get(name);
    if (filer === undefined) return this.#reply(command, { ok: false, reason: `unknown filer "${name}"` });
    if (filer.phase === 'serving') return this.#reply(command, { ok: false, forward: true });
    const refusal = this.#refusal(kind, filer);
    if (refusal !== undefined) return this.#reply(command, { ok: false, reason: `${kind} ${name}: ${refusal}` });
    this.#operation = {
      id: [this.#config.node, this.#config.incarnation, this.#nextOperation++].filter((part) => part !== undefined).join('-'),
      kind,
      filer: name,
      role: 'acquirer',
      command,
      startedAtMs: this.#nowMs,
      deadlineMs: this.#nowMs + this.#config.operationDeadlineMs,
      phaseStartedAtMs: this.#nowMs,
      phases: {},
      epoch: 0n,
      undrained: 0,
      releasedHere: false,
    };
    filer.phase = 'checking';
    this.#act({ type: 'inspect', filer: name }, { filer: name, step: 'check' });
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
    if (!this.#peerUp) return `partner ${this.#config.partner} is down or unreachable`;
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
    this.#send({ type: 'release-request', op: op.id, kind: op.kind, filer: filer.name, epoch: op.epoch });
  }

  // ---- messages ----

  #onMessage(message: PeerMessage): void {
    if (message.type === 'release-request') return this.#onReleaseRequest(message);
    const op = this.#operation;
    const filer = this.#filers.get(message.filer);
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
    this.#operation = {
      id: message.op,
      kind: message.kind,
      filer: filer.name,
      role: 'releaser',
      command: undefined,
      startedAtMs: this.#nowMs,
      deadlineMs: this.#nowMs + this.#config.operationDeadlineMs,
      phaseStartedAtMs: this.#nowMs,
      phases: {},
      epoch: message.epoch,
      undrained: 0,
      releasedHere: false,
    };
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
    // Ours. Released but never acquired (we stopped in between): take it back at a new epoch.
    if (mailbox.state === 'released') return this.#claim(filer, mailbox.epoch + 1n);
    filer.phase = 'activating';
    this.#serve(filer, mailbox.epoch, undefined);
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
    const handoff = op !== undefined && (op.role === 'acquirer' || op.releasedHere) && op.epoch > 0n ? op.epoch : undefined;
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
    const op = this.#operation;
    if (op === undefined || op.filer !== filer.name) {
      this.#record({ kind: 'start', filer: filer.name, outcome: 'completed', epoch, detail: `serving at epoch ${epoch}` });
      return;
    }
    this.#phaseDone('serve');
    if (op.role === 'releaser') return this.#finish(filer, 'rolled-back', `took ${filer.name} back at epoch ${epoch}: the partner did not acquire it`);
    op.phases.total = this.#nowMs - op.startedAtMs;
    this.#send({ type: 'acquired', op: op.id, filer: filer.name, epoch, phases: { ...op.phases } });
    const undrained = op.undrained > 0 ? `; drain deadline passed with ${op.undrained} calls in progress` : '';
    this.#finish(filer, 'completed', `${filer.name} served by ${this.#config.node}${undrained}`);
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
        return this.#fail(filer, what, 'failed');
    }
  }

  #retryFailedReads(): void {
    for (const pending of this.#retries.splice(0)) this.#act({ type: 'inspect', filer: pending.filer }, pending);
  }

  // ---- bookkeeping ----

  #fail(filer: Filer, reason: string, phase: FilerPhase): void {
    filer.phase = phase;
    filer.failure = phase === 'failed' ? reason : undefined;
    if (this.#operation?.filer === filer.name) return this.#finish(filer, 'failed', reason);
    this.#record({ kind: 'start', filer: filer.name, outcome: 'failed', detail: reason });
    return;
  }

  #finish(filer: Filer, outcome: ClusterEvent['outcome'], detail: string): void {
    const op = this.#operation!;
    // The releaser keeps the acquirer's total (it started earlier) when `acquired` brought it.
    op.phases.total ??= this.#nowMs - op.startedAtMs;
    this.#operation = undefined;
    const event = this.#record({
      kind: outcome === 'rolled-back' ? 'rollback' : op.kind,
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
    op.phases[phase] = this.#nowMs - op.phaseStartedAtMs;
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
