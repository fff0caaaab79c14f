// The simulator of a Tandem pair (test/sim/cluster-sim.ts): two NodeCores run against a simulated
// runtime, mailbox and interconnect on a virtual clock, one seeded PRNG choosing every delay and
// fault. Scenarios drive it step by step (operate, crash, partition, run); a random run plans its
// faults and commands from the seed. The invariants (invariants.ts) are checked after every step.

import { NodeCore, type CoreStatus, type FilerPhase } from '../../src/cluster/core/node-core.js';
import type { Action, ActionResult, ClusterEvent, CommandResult, MailboxView, OperationKind, PeerMessage } from '../../src/cluster/core/types.js';
import { checkFiler, checkStatus, type Violate } from './invariants.js';
import { Prng } from './prng.js';
import {
  DRAIN_DEADLINE_MS, FILERS, NO_FAULTS, NODE_NAMES, OPERATION_DEADLINE_MS, partnerOf, QUIESCE_MS, SimulationError, TRACE_TAIL,
  type Command, type CoreLike, type Faults, type Happening, type IdAction, type Mailbox, type NodeName, type NodeState,
  type Queued, type RandomPlan, type Recorded, type Reply, type SimHooks, type SimOptions,
} from './sim-model.js';
import { describeAction, describeMessage, describeResult, jsonBigint } from './trace-text.js';

export class ClusterSim {
  readonly seed: number;
  readonly prng: Prng;
  hooks: SimHooks;
  faults: Faults;
  readonly trace: string[] = [];
  readonly events: Recorded[] = [];
  readonly replies = new Map<string, Reply>();
  /** Operator restarts a quiesce needed for filers an action failure left 'failed'. */
  readonly remedies: string[] = [];
  nowMs = 0;
  step = 0;
  readonly #options: Required<Omit<SimOptions, 'hooks' | 'faults' | 'wrapCore'>>;
  readonly #wrapCore: ((core: NodeCore, node: NodeName) => CoreLike) | undefined;
  readonly #commands = new Map<string, Command>();
  readonly #nodes: Record<NodeName, NodeState>;
  readonly #mailboxes = new Map<string, Mailbox>();
  /** Every claim won, as the cores were told: no epoch may have two. */
  readonly #wins = new Map<string, Map<bigint, NodeName>>();
  readonly #lastHighest = new Map<string, bigint>();
  #queue: Queued[] = [];
  #seq = 0;
  #partitioned = false;
  #linkUp = false;
  #nextCommand = 1;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.prng = new Prng(options.seed);
    this.hooks = options.hooks ?? {};
    this.faults = options.faults ?? NO_FAULTS;
    this.#wrapCore = options.wrapCore;
    this.#options = {
      seed: options.seed,
      messageDelayMs: options.messageDelayMs ?? [5, 5],
      actionDelayMs: options.actionDelayMs ?? [10, 10],
      detectMs: options.detectMs ?? 300,
      tickMs: options.tickMs ?? 100,
      drainInProgressMax: options.drainInProgressMax ?? 0,
    };
    const node = (name: NodeName): NodeState => ({ name, alive: false, inc: 0, core: undefined, serving: new Map(), inflight: new Map(), peerTold: false });
    this.#nodes = { a: node('a'), b: node('b') };
    for (const { name } of FILERS) {
      this.#mailboxes.set(name, { claims: new Map(), highest: undefined, record: undefined, handoffs: new Set() });
      this.#wins.set(name, new Map());
    }
  }

  // ---- what scenarios drive ----

  /** Starts both nodes (b `staggerMs` after a) and runs until they serve their filers. */
  boot(staggerMs = 0): this {
    this.#schedule(0, { kind: 'restart', node: 'a' }, false);
    this.#schedule(staggerMs, { kind: 'restart', node: 'b' }, false);
    return this.run(staggerMs + 1000);
  }

  /** Processes every step due in the next `ms` of virtual time. */
  run(ms: number): this {
    const until = this.nowMs + ms;
    while (this.#queue.length > 0 && this.#queue[0]!.at <= until) this.stepOnce();
    this.nowMs = Math.max(this.nowMs, until);
    return this;
  }

  /** Steps until `done()` holds; fails the run if it does not within `limitMs`. */
  runUntil(done: () => boolean, limitMs = 60_000): this {
    const until = this.nowMs + limitMs;
    while (!done()) {
      if (this.#queue.length === 0 || this.#queue[0]!.at > until) this.#violate(`runUntil: condition not reached within ${limitMs} ms`);
      this.stepOnce();
    }
    return this;
  }

  /** An operator command to `node`'s admin API, now; a `forward` answer is re-sent to the partner. */
  operate(node: NodeName, kind: OperationKind, filer: string, delayMs = 0): string {
    const id = `cmd-${this.#nextCommand++}`;
    this.#commands.set(id, { id, node, kind, filer, inc: -1 });
    this.#schedule(delayMs, { kind: 'command', id }, false);
    return id;
  }

  /** The answer to a command, following a forward to the partner. */
  outcome(id: string): CommandResult | undefined {
    let reply = this.replies.get(id);
    while (reply !== undefined && !reply.result.ok && reply.result.forward === true && this.#commands.has(`${reply.id}>`)) reply = this.replies.get(`${reply.id}>`);
    return reply?.result;
  }

  /** The answers to a command and its forward, in order. */
  answers(id: string): Reply[] {
    return [this.replies.get(id), this.replies.get(`${id}>`)].filter((reply): reply is Reply => reply !== undefined);
  }

  crash(node: NodeName): this {
    this.#crash(node);
    this.#check();
    return this;
  }
  restart(node: NodeName): this {
    this.#restart(node);
    this.#check();
    return this;
  }
  partition(): this {
    this.#setPartition(true);
    this.#check();
    return this;
  }
  heal(): this {
    this.#setPartition(false);
    this.#check();
    return this;
  }
  isAlive(node: NodeName): boolean {
    return this.#nodes[node].alive;
  }
  /** Live nodes whose runtime serves `filer`, with the epoch. */
  servers(filer: string): { node: NodeName; epoch: bigint }[] {
    return NODE_NAMES.filter((n) => this.#nodes[n].alive && this.#nodes[n].serving.has(filer)).map((node) => ({ node, epoch: this.#nodes[node].serving.get(filer)! }));
  }
  status(node: NodeName): CoreStatus | undefined {
    return this.#nodes[node].core?.status();
  }
  phase(node: NodeName, filer: string): FilerPhase | undefined {
    return this.status(node)?.filers.find((f) => f.name === filer)?.phase;
  }
  /** The mailbox of `filer`: claims (epoch -> owner), state record, hand-offs. */
  mailbox(filer: string): { claims: [bigint, NodeName][]; record: Mailbox['record']; handoffs: bigint[] } {
    const box = this.#box(filer);
    return { claims: [...box.claims].sort((x, y) => (x[0] < y[0] ? -1 : 1)), record: box.record, handoffs: [...box.handoffs] };
  }
  /** Is an action of this type in flight on `node` (issued, not completed)? */
  inflight(node: NodeName, type: IdAction['type']): boolean {
    return [...this.#nodes[node].inflight.values()].some((action) => action.type === type);
  }

  // ---- the random run ----

  /** Plans faults and commands over `durationMs` from the PRNG; see `runSeed`. */
  planRandom(durationMs: number, plan: RandomPlan): void {
    const p = this.prng;
    const at = () => p.int(0, durationMs);
    for (let i = 0; i < plan.commands; i++) this.#schedule(at(), { kind: 'operator' }, true);
    for (let i = 0; i < plan.crashes; i++) {
      const when = at();
      const node = p.pick(NODE_NAMES);
      this.#schedule(when, { kind: 'crash', node }, true);
      this.#schedule(when + p.int(1, 15_000), { kind: 'restart', node }, true);
    }
    for (let i = 0; i < plan.partitions; i++) {
      const when = at();
      this.#schedule(when, { kind: 'partition' }, true);
      this.#schedule(when + p.int(1, 15_000), { kind: 'heal' }, true);
    }
    for (let i = 0; i < plan.jumps; i++) this.#schedule(at(), { kind: 'jump', ms: p.int(500, 15_000) }, true);
  }

  /** Faults off, partitions healed, crashed nodes restarted, every deadline passed. */
  quiesce(): this {
    this.faults = NO_FAULTS;
    this.#queue = this.#queue.filter((queued) => !queued.planned);
    this.#log('quiesce');
    if (this.#partitioned) this.heal();
    for (const node of NODE_NAMES) if (!this.#nodes[node].alive) this.restart(node);
    this.run(QUIESCE_MS);
    // An action failure leaves a filer 'failed' on purpose (not served here, no retry): the
    // operator's remedy is a restart of that node. Counted, so a run shows how often.
    for (const node of NODE_NAMES) {
      const failed = this.status(node)?.filers.filter((f) => f.phase === 'failed') ?? [];
      if (failed.length === 0) continue;
      this.remedies.push(`${node}: ${failed.map((f) => `${f.name} (${f.failure})`).join(', ')}`);
      this.#log(`operator restarts ${node}: ${this.remedies.at(-1)}`);
      this.crash(node).restart(node);
    }
    return this.run(QUIESCE_MS);
  }

  /** After a quiesce: every filer served once, nothing running, every command answered, and a
   *  final takeover + giveback of filer a completes. */
  checkLiveness(): this {
    for (const { name } of FILERS) {
      const servers = this.servers(name);
      if (servers.length !== 1) this.#violate(`liveness: filer ${name} is served by ${servers.length} nodes after the quiesce`);
    }
    for (const node of NODE_NAMES) {
      const status = this.status(node)!;
      if (status.operation !== undefined) this.#violate(`liveness: ${node} still runs ${status.operation.kind} of ${status.operation.filer}`);
      if (!status.peerUp) this.#violate(`liveness: ${node} does not see its partner up`);
      for (const f of status.filers) if (f.phase !== 'serving' && f.phase !== 'idle') this.#violate(`liveness: filer ${f.name} is ${f.phase} on ${node}`);
    }
    for (const command of this.#commands.values()) {
      const node = this.#nodes[command.node];
      if (command.inc === node.inc && !this.replies.has(command.id)) this.#violate(`liveness: ${command.id} (${command.kind} ${command.filer} to ${command.node}) was never answered`);
    }
    if (this.servers('a')[0]!.node === 'b') this.#finalTrip('giveback', 'a');
    this.#finalTrip('takeover', 'b');
    this.#finalTrip('giveback', 'a');
    return this;
  }

  #finalTrip(kind: OperationKind, expected: NodeName): void {
    const id = this.operate(this.prng.pick(NODE_NAMES), kind, 'a');
    this.runUntil(() => this.outcome(id) !== undefined, 3 * OPERATION_DEADLINE_MS);
    const result = this.outcome(id)!;
    if (!result.ok) this.#violate(`liveness: final ${kind} of a failed: ${JSON.stringify(result, jsonBigint)}`);
    this.run(1000);
    const servers = this.servers('a');
    if (servers.length !== 1 || servers[0]!.node !== expected) this.#violate(`liveness: after the final ${kind}, a is not served by ${expected} alone`);
  }

  // ---- one step ----

  stepOnce(): void {
    const queued = this.#queue.shift()!;
    this.nowMs = Math.max(this.nowMs, queued.at);
    this.step++;
    this.#happen(queued.what);
    this.#check();
  }

  #happen(what: Happening): void {
    switch (what.kind) {
      case 'tick': {
        const node = this.#nodes[what.node];
        if (!node.alive || node.inc !== what.inc) return;
        this.#schedule(this.#options.tickMs, what, false);
        return this.#feed(node, { type: 'tick', nowMs: this.nowMs }, 'tick');
      }
      case 'complete':
        return this.#complete(what.node, what.inc, what.action, what.inProgress);
      case 'deliver': {
        const node = this.#nodes[what.to];
        if (!node.alive || node.inc !== what.inc || this.#partitioned || this.hooks.beforeDeliver?.(what.to, what.message) === 'drop') {
          return this.#log(`${what.to} never gets ${describeMessage(what.message)}`);
        }
        return this.#feed(node, { type: 'message', nowMs: this.nowMs, message: what.message }, `gets ${describeMessage(what.message)}`);
      }
      case 'link': {
        const node = this.#nodes[what.node];
        if (!node.alive || node.inc !== what.inc || node.peerTold === what.up) return;
        node.peerTold = what.up;
        return this.#feed(node, { type: what.up ? 'peer-up' : 'peer-down', nowMs: this.nowMs }, what.up ? 'peer-up' : 'peer-down');
      }
      case 'command':
        return this.#command(this.#commands.get(what.id)!);
      case 'operator':
        return this.#randomCommand();
      case 'crash':
        return this.#crash(what.node);
      case 'restart':
        return this.#restart(what.node);
      case 'partition':
      case 'heal':
        return this.#setPartition(what.kind === 'partition');
      case 'jump':
        this.nowMs += what.ms;
        return this.#log(`clock jumps ${what.ms} ms`);
    }
  }

  #randomCommand(): void {
    const p = this.prng;
    const filer = p.chance(0.05) ? 'zzz' : p.pick(FILERS).name;
    const home = FILERS.find((f) => f.name === filer)?.home;
    const awayFromHome = this.servers(filer).some((s) => s.node !== home);
    const sensible: OperationKind = awayFromHome ? 'giveback' : 'takeover';
    const kind: OperationKind = p.chance(0.75) ? sensible : sensible === 'takeover' ? 'giveback' : 'takeover';
    const id = `cmd-${this.#nextCommand++}`;
    this.#commands.set(id, { id, node: p.pick(NODE_NAMES), kind, filer, inc: -1 });
    this.#command(this.#commands.get(id)!);
  }

  #command(command: Command): void {
    const node = this.#nodes[command.node];
    command.inc = node.inc;
    if (!node.alive) {
      this.replies.set(command.id, { id: command.id, from: 'admin', atMs: this.nowMs, result: { ok: false, reason: `node ${command.node} is down` } });
      return this.#log(`operator: ${command.id} ${command.kind} ${command.filer} to ${command.node}: node down`);
    }
    const input = { type: 'command', nowMs: this.nowMs, id: command.id, kind: command.kind, filer: command.filer } as const;
    this.#feed(node, input, `command ${command.id} ${command.kind} ${command.filer}`);
  }

  #complete(name: NodeName, inc: number, action: IdAction, inProgress: number): void {
    const node = this.#nodes[name];
    if (!node.alive || node.inc !== inc) return;
    node.inflight.delete(action.id);
    const result = this.#perform(node, action, inProgress);
    const verdict = this.hooks.afterEffect?.(name, action) ?? (this.prng.chance(this.faults.crashAfterEffect) ? 'crash' : undefined);
    if (verdict === 'crash') {
      this.#log(`${name} completes ${describeAction(action)} -> ${describeResult(result)}, and crashes before its core hears`);
      return this.#crash(name);
    }
    this.#feed(node, { type: 'done', nowMs: this.nowMs, action: action.id, result }, `done ${describeAction(action)} -> ${describeResult(result)}`);
  }

  /** The simulated runtime carries out `action` and reports its result. */
  #perform(node: NodeState, action: IdAction, inProgress: number): ActionResult {
    const box = this.#box(action.filer);
    const failure = this.prng.chance(this.faults.actionFailure) ? `injected ${action.type} failure` : undefined;
    switch (action.type) {
      case 'inspect':
        return failure !== undefined ? { ok: false, error: failure } : { ok: true, mailbox: this.#view(box) };
      case 'drain':
        return failure !== undefined ? { ok: false, error: failure } : { ok: true, drained: { inProgress } };
      case 'release': {
        // Gates stopped first: even a failed release leaves the filer not served here.
        if (node.serving.get(action.filer) !== action.epoch) this.#violate(`${node.name} releases ${action.filer} at epoch ${action.epoch}, which it does not serve`);
        node.serving.delete(action.filer);
        if (failure !== undefined) return { ok: false, error: failure };
        box.handoffs.add(action.epoch);
        box.record = { epoch: action.epoch, owner: node.name, state: 'released' };
        return { ok: true };
      }
      case 'claim': {
        if (failure !== undefined) {
          if (this.prng.chance(0.5)) this.#claim(action.filer, action.epoch, node.name); // written, then an error
          return { ok: false, error: failure };
        }
        return { ok: true, claim: this.#claim(action.filer, action.epoch, node.name) };
      }
      case 'serve': {
        if (node.serving.has(action.filer)) this.#violate(`${node.name} is asked to serve ${action.filer}, which it serves already`);
        if (box.claims.get(action.epoch) !== node.name) this.#violate(`${node.name} is asked to serve ${action.filer} at epoch ${action.epoch}, which it did not claim`);
        if (box.highest! > action.epoch) return { ok: false, error: 'fenced' };
        if (failure !== undefined) return { ok: false, error: failure };
        if (action.handoffEpoch !== undefined && !box.handoffs.has(action.handoffEpoch)) this.#violate(`${node.name} restores hand-off ${action.handoffEpoch} of ${action.filer}, which is not in the mailbox`);
        node.serving.set(action.filer, action.epoch);
        box.record = { epoch: action.epoch, owner: node.name, state: action.state };
        return { ok: true };
      }
    }
  }

  #claim(filer: string, epoch: bigint, owner: NodeName): { won: boolean; holder: string } {
    const box = this.#box(filer);
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

  #view(box: Mailbox): MailboxView {
    const epoch = box.highest;
    return { epoch, owner: epoch === undefined ? undefined : box.claims.get(epoch), state: box.record?.state, handoff: epoch !== undefined && box.handoffs.has(epoch) };
  }

  /** Hands `input` to the node's core and carries out the actions it returns. */
  #feed(node: NodeState, input: Parameters<NodeCore['handle']>[0], what: string): void {
    const actions = node.core!.handle(input);
    this.#log(`${node.name} ${what}${actions.length === 0 ? '' : ` => ${actions.map(describeAction).join('; ')}`}`);
    this.#carryOut(node, actions);
  }

  #carryOut(node: NodeState, actions: readonly Action[]): void {
    for (const action of actions) {
      switch (action.type) {
        case 'send':
          this.#send(node.name, action.message);
          break;
        case 'reply':
          this.#onReply(node, action.command, action.result);
          break;
        case 'record':
          this.#onRecord(node, action.event);
          break;
        default: {
          if (action.type === 'drain' && !node.serving.has(action.filer)) this.#violate(`${node.name} drains ${action.filer}, which it does not serve`);
          node.inflight.set(action.id, action);
          const max = action.type === 'drain' ? this.#options.drainInProgressMax : 0;
          const inProgress = action.type === 'drain' ? (this.hooks.drainInProgress?.(node.name) ?? this.prng.int(0, max)) : 0;
          // A drain with calls still running ran to its deadline.
          const delay = this.hooks.actionDelay?.(node.name, action) ?? (action.type === 'drain' && inProgress > 0 ? action.deadlineMs : this.#delay(this.#options.actionDelayMs));
          this.#schedule(delay, { kind: 'complete', node: node.name, inc: node.inc, action, inProgress }, false);
        }
      }
    }
  }

  #send(from: NodeName, message: PeerMessage): void {
    const to = this.#nodes[partnerOf(from)];
    if (!this.#linkUp) return this.#log(`${from} -> ${to.name} lost (link down): ${describeMessage(message)}`);
    const verdict = this.hooks.onSend?.(from, message);
    if (verdict === 'drop' || this.prng.chance(this.faults.messageLoss)) return this.#log(`${from} -> ${to.name} lost: ${describeMessage(message)}`);
    const copies = verdict === 'duplicate' || this.prng.chance(this.faults.messageDuplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.#schedule(this.#delay(this.#options.messageDelayMs), { kind: 'deliver', to: to.name, inc: to.inc, message }, false);
  }

  #onReply(node: NodeState, id: string, result: CommandResult): void {
    if (this.replies.has(id)) this.#violate(`${id} answered twice`);
    this.replies.set(id, { id, from: node.name, atMs: this.nowMs, result });
    this.#log(`${node.name} replies ${id}: ${JSON.stringify(result, jsonBigint)}`);
    const command = this.#commands.get(id);
    if (result.ok) {
      // A completed operation is answered by the acquirer, which serves the filer now.
      if (command !== undefined && node.serving.get(command.filer) !== result.event.epoch) this.#violate(`${id} answered ok by ${node.name}, which does not serve ${command.filer} at ${result.event.epoch}`);
    } else if (result.forward === true && command !== undefined && !id.endsWith('>')) {
      // The admin layer re-sends a forwarded command to the partner.
      const forwarded = `${id}>`;
      this.#commands.set(forwarded, { id: forwarded, node: partnerOf(node.name), kind: command.kind, filer: command.filer, inc: -1 });
      this.#schedule(this.#delay(this.#options.messageDelayMs), { kind: 'command', id: forwarded }, false);
    }
  }

  #onRecord(node: NodeState, event: ClusterEvent): void {
    this.events.push({ node: node.name, event });
    const phases = Object.entries(event.phases ?? {});
    for (const [phase, ms] of phases) {
      if (!Number.isFinite(ms) || ms < 0 || ms > (event.phases?.total ?? Infinity)) this.#violate(`${node.name} records phase ${phase} of ${ms} ms (total ${event.phases?.total})`);
    }
    if ((event.kind === 'rollback') !== (event.outcome === 'rolled-back')) this.#violate(`${node.name} records a ${event.kind} event with outcome ${event.outcome}`);
    if (event.outcome === 'rolled-back' && node.serving.get(event.filer) !== event.epoch) this.#violate(`${node.name} records a rollback of ${event.filer} it does not serve at ${event.epoch}`);
  }

  // ---- faults ----

  #crash(name: NodeName): void {
    const node = this.#nodes[name];
    if (!node.alive) return;
    node.alive = false;
    node.core = undefined;
    node.inc++;
    node.serving.clear();
    // What was under way when it died may or may not have reached the mailbox.
    for (const action of node.inflight.values()) {
      if (!this.prng.chance(0.5)) continue;
      const box = this.#box(action.filer);
      if (action.type === 'claim') this.#claim(action.filer, action.epoch, name);
      if (action.type === 'release') {
        box.handoffs.add(action.epoch);
        if (this.prng.chance(0.5)) box.record = { epoch: action.epoch, owner: name, state: 'released' };
      }
      if (action.type === 'serve' && box.claims.get(action.epoch) === name && box.highest === action.epoch) box.record = { epoch: action.epoch, owner: name, state: action.state };
    }
    node.inflight.clear();
    this.#log(`${name} crashes`);
    this.#updateLink();
  }

  #restart(name: NodeName): void {
    const node = this.#nodes[name];
    if (node.alive) return;
    node.alive = true;
    node.peerTold = false;
    const core = new NodeCore({ node: name, partner: partnerOf(name), filers: FILERS, drainDeadlineMs: DRAIN_DEADLINE_MS, operationDeadlineMs: OPERATION_DEADLINE_MS });
    node.core = this.#wrapCore?.(core, name) ?? core;
    const actions = node.core.start(this.nowMs);
    this.#log(`${name} starts => ${actions.map(describeAction).join('; ')}`);
    this.#carryOut(node, actions);
    this.#schedule(this.#options.tickMs, { kind: 'tick', node: name, inc: node.inc }, false);
    this.#updateLink();
  }

  #setPartition(partitioned: boolean): void {
    if (this.#partitioned === partitioned) return;
    this.#partitioned = partitioned;
    this.#log(partitioned ? 'partition' : 'partition heals');
    this.#updateLink();
  }

  /** The link is up when both nodes live and no partition stands; the cores hear of a change later. */
  #updateLink(): void {
    const up = this.#nodes.a.alive && this.#nodes.b.alive && !this.#partitioned;
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    for (const node of NODE_NAMES.map((n) => this.#nodes[n])) {
      if (node.alive) this.#schedule(this.#options.detectMs, { kind: 'link', node: node.name, inc: node.inc, up }, false);
    }
  }

  // ---- invariants ----

  #check(): void {
    const violate: Violate = (message) => this.#violate(message);
    for (const { name } of FILERS) checkFiler(name, this.#box(name), this.servers(name), this.#lastHighest, this.#wins.get(name)!, violate);
    for (const name of NODE_NAMES) if (this.#nodes[name].alive) checkStatus(this.#nodes[name], violate);
  }

  #violate(message: string): never {
    const tail = this.trace.slice(-TRACE_TAIL).join('\n  ');
    throw new SimulationError(`seed ${this.seed}, step ${this.step}, t=${this.nowMs} ms: ${message}\n  last ${TRACE_TAIL} events:\n  ${tail}`);
  }

  // ---- plumbing ----

  #schedule(delayMs: number, what: Happening, planned: boolean): void {
    const queued: Queued = { at: this.nowMs + delayMs, seq: this.#seq++, what, planned };
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const other = this.#queue[mid]!;
      if (other.at < queued.at || (other.at === queued.at && other.seq < queued.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, queued);
  }

  #delay([lo, hi]: readonly [number, number]): number {
    return this.prng.int(lo, hi);
  }

  #box(filer: string): Mailbox {
    const box = this.#mailboxes.get(filer);
    if (box === undefined) this.#violate(`the core names filer ${filer}, which has no mailbox`);
    return box;
  }

  #log(text: string): void {
    this.trace.push(`#${this.step} @${this.nowMs} ${text}`);
  }
}
