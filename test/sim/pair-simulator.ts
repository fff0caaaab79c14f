// The simulator of a Tandem pair (test/sim/cluster-sim.ts): two NodeCores run against a simulated
// runtime, mailbox, leases and interconnect on a virtual clock, one seeded PRNG choosing every
// delay and fault. Scenarios drive it step by step (operate, crash, pause, partition, run); a
// random run plans its faults and commands from the seed (cluster-sim.ts). The invariants
// (invariants.ts) are checked after every step.
//
// Time. `nowMs` is real (simulated) time. Each node reads its own monotonic clock (sim-clock.ts:
// its own rate and origin), and the core, the lease keeper and the lease observer read only that:
// the core's nowMs is monotonic in the runtime. A wall clock that steps (NTP, an operator) feeds
// nothing here, so it is not modelled; `jump(ms)` is what remains realistic of the old clock
// jump: the whole pair and its storage freeze for `ms` (a hypervisor stopping all of them) and
// every monotonic clock has advanced by it when they go on, so everything due falls due at once.
//
// The runtime's leases are the real LeaseKeeper and LeaseObserver (lease-runtime.ts), whose
// completions settle promises: each step therefore ends by letting every promise continuation
// run (`settle`) before the invariants are checked, which makes the simulator asynchronous.
//
// Pause (SIGSTOP): nothing of the node runs: its ticks, timers, action completions, message
// deliveries and link notices wait (`deferred`) and run, in order, when it resumes; its clock
// keeps running. Storage is another machine: a claim the node issued lands while it is stopped,
// and so do its lease writes in flight. Its partner's heartbeats go unanswered, so the link is
// down while it is paused. A mailbox outage fails the node's storage actions and its lease reads
// and writes (sim-storage.ts, lease-runtime.ts); slow storage adds to each of them.

import { NodeCore, type CoreStatus, type FilerPhase } from '../../src/cluster/core/node-core.js';
import type { Action, ActionResult, ClusterEvent, CommandResult, Input, OperationKind, PeerMessage } from '../../src/cluster/core/types.js';
import { checkRecord, checkReply, checkStatus } from './invariants.js';
import { SimLeases } from './lease-runtime.js';
import { Prng } from './prng.js';
import { NodeClock } from './sim-clock.js';
import { SimStorage } from './sim-storage.js';
import {
  DRAIN_DEADLINE_MS, FILERS, NO_FAULTS, NODE_NAMES, OPERATION_DEADLINE_MS, partnerOf, SimulationError, TRACE_TAIL,
  type Command, type CoreLike, type Faults, type Happening, type IdAction, type Mailbox, type NodeName, type NodeState,
  type Queued, type Recorded, type Reply, type SimHooks, type SimOptions, type Volume,
} from './sim-model.js';
import { describeAction, describeMessage, describeResult, jsonBigint } from './trace-text.js';

/** Lets every promise continuation that is ready run (setImmediate runs after the microtasks). */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

type Options = Required<Omit<SimOptions, 'hooks' | 'faults' | 'wrapCore' | 'clocks' | 'autoGiveback'>> & Pick<SimOptions, 'autoGiveback'>;

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
  readonly options: Options;
  readonly #wrapCore: ((core: NodeCore, node: NodeName) => CoreLike) | undefined;
  readonly #commands = new Map<string, Command>();
  readonly #nodes: Record<NodeName, NodeState>;
  readonly #storage: SimStorage;
  #queue: Queued[] = [];
  #seq = 0;
  /** Below every ordinary sequence number: what a resumed node held runs first. */
  #heldSeq = 0;
  #partitioned = false;
  #linkUp = false;
  #nextCommand = 1;
  /** A violation raised inside a promise continuation, rethrown when the step settles. */
  #failure: unknown;

  constructor(options: SimOptions) {
    this.seed = options.seed;
    this.prng = new Prng(options.seed);
    this.hooks = options.hooks ?? {};
    this.faults = options.faults ?? NO_FAULTS;
    this.#wrapCore = options.wrapCore;
    this.options = {
      seed: options.seed,
      messageDelayMs: options.messageDelayMs ?? [5, 5],
      actionDelayMs: options.actionDelayMs ?? [10, 10],
      leaseWriteMs: options.leaseWriteMs ?? [5, 5],
      leaseReadMs: options.leaseReadMs ?? [5, 5],
      detectMs: options.detectMs ?? 300,
      tickMs: options.tickMs ?? 100,
      drainInProgressMax: options.drainInProgressMax ?? 0,
      ackEveryMs: options.ackEveryMs ?? [50, 150],
      ...(options.autoGiveback === undefined ? {} : { autoGiveback: options.autoGiveback }),
    };
    const node = (name: NodeName): NodeState => {
      const clock = options.clocks?.[name];
      const host = { realMs: () => this.nowMs, timer: (at: number, run: () => void) => this.#timer(name, at, run) };
      return {
        name, clock: new NodeClock(host, clock?.rate, clock?.originMs), alive: false, inc: 0, core: undefined, serving: new Map(), fenced: new Map(),
        inflight: new Map(), peerTold: false, paused: false, deferred: [], leases: undefined, mailboxDown: false, slowStorageMs: 0,
      };
    };
    this.#nodes = { a: node('a'), b: node('b') };
    this.#storage = new SimStorage(this.prng, (message) => this.violate(message));
  }

  // ---- what scenarios drive ----

  /** Starts both nodes (b `staggerMs` after a) and runs until they serve their filers. */
  boot(staggerMs = 0): Promise<this> {
    this.#schedule(0, { kind: 'restart', node: 'a' }, false);
    this.#schedule(staggerMs, { kind: 'restart', node: 'b' }, false);
    return this.run(staggerMs + 1000);
  }

  /** Processes every step due in the next `ms` of real time. */
  async run(ms: number): Promise<this> {
    const until = this.nowMs + ms;
    while (this.#queue.length > 0 && this.#queue[0]!.at <= until) await this.stepOnce();
    this.nowMs = Math.max(this.nowMs, until);
    return this;
  }

  /** Steps until `done()` holds; fails the run if it does not within `limitMs`. */
  async runUntil(done: () => boolean, limitMs = 60_000): Promise<this> {
    const until = this.nowMs + limitMs;
    while (!done()) {
      if (this.#queue.length === 0 || this.#queue[0]!.at > until) this.violate(`runUntil: condition not reached within ${limitMs} ms`);
      await this.stepOnce();
    }
    return this;
  }

  /** An operator command to `node`'s admin API, now; a `forward` answer is re-sent to the partner. */
  operate(node: NodeName, kind: OperationKind, filer: string, delayMs = 0, force = false): string {
    const id = `cmd-${this.#nextCommand++}`;
    this.#commands.set(id, { id, node, kind, filer, force, inc: -1 });
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

  commands(): readonly Command[] {
    return [...this.#commands.values()];
  }

  /** Faults a scenario (or the random plan, `planned`) applies now or after `delayMs`. */
  inject(what: Happening, delayMs = 0, planned = false): this {
    if (delayMs === 0 && !planned) {
      this.#happen(what);
      this.#check();
    } else this.#schedule(delayMs, what, planned);
    return this;
  }
  crash(node: NodeName): this {
    return this.inject({ kind: 'crash', node });
  }
  restart(node: NodeName): this {
    return this.inject({ kind: 'restart', node });
  }
  partition(): this {
    return this.inject({ kind: 'partition' });
  }
  heal(): this {
    return this.inject({ kind: 'heal' });
  }
  /** SIGSTOP now, SIGCONT `ms` later. */
  pause(node: NodeName, ms: number): this {
    return this.inject({ kind: 'pause', node, ms });
  }
  resume(node: NodeName): this {
    return this.inject({ kind: 'resume', node });
  }
  /** The node's mailbox (and lease) reads and writes fail for `ms`. */
  mailboxDown(node: NodeName, ms: number): this {
    this.inject({ kind: 'mailbox', node, down: true });
    return this.inject({ kind: 'mailbox', node, down: false }, ms);
  }
  /** The node's storage operations take `extraMs` longer for `ms`. */
  slowStorage(node: NodeName, ms: number, extraMs: number): this {
    this.inject({ kind: 'slow', node, extraMs });
    return this.inject({ kind: 'slow', node, extraMs: 0 }, ms);
  }
  /** The node's runtime reports a fault of `filer` (or of the whole node) to its core. */
  fault(node: NodeName, filer: string | undefined): this {
    return this.inject({ kind: 'fault', node, filer });
  }
  /** Drops every planned happening not yet due (a quiesce). */
  dropPlanned(): void {
    this.#queue = this.#queue.filter((queued) => !queued.planned);
  }
  /** The whole pair, its links and storage freeze for `ms`; every clock has advanced by it after. */
  jump(ms: number): this {
    return this.inject({ kind: 'jump', ms });
  }

  isAlive(node: NodeName): boolean {
    return this.#nodes[node].alive;
  }
  /** Bumped at each crash: a command sent to an earlier life need not be answered. */
  incarnation(node: NodeName): number {
    return this.#nodes[node].inc;
  }
  partitioned(): boolean {
    return this.#partitioned;
  }
  /** Live nodes that serve `filer`: the runtime serves it AND its lease is valid on its own clock. */
  servers(filer: string): { node: NodeName; epoch: bigint }[] {
    return this.runtimeServers(filer).filter(({ node, epoch }) => this.#nodes[node].leases!.isValid(filer, epoch));
  }
  /** Live nodes whose runtime serves `filer` (gates open), valid lease or not. */
  runtimeServers(filer: string): { node: NodeName; epoch: bigint }[] {
    return NODE_NAMES.filter((n) => this.#nodes[n].alive && this.#nodes[n].serving.has(filer)).map((node) => ({ node, epoch: this.#nodes[node].serving.get(filer)! }));
  }
  status(node: NodeName): CoreStatus | undefined {
    return this.#nodes[node].core?.status();
  }
  phase(node: NodeName, filer: string): FilerPhase | undefined {
    return this.status(node)?.filers.find((f) => f.name === filer)?.phase;
  }
  /** The node's monotonic clock now, and the real time at which it reads `localMs`. */
  clockOf(node: NodeName): NodeClock {
    return this.#nodes[node].clock;
  }
  /** The node's lease keeper of `filer`, if its process has one. */
  keeperOf(node: NodeName, filer: string): ReturnType<SimLeases['keeperOf']> {
    return this.#nodes[node].leases?.keeperOf(filer);
  }
  /** The mailbox of `filer`: claims (epoch -> owner), state record, hand-offs. */
  mailbox(filer: string): { claims: [bigint, NodeName][]; record: Mailbox['record']; handoffs: bigint[] } {
    const box = this.#box(filer);
    return { claims: [...box.claims].sort((x, y) => (x[0] < y[0] ? -1 : 1)), record: box.record, handoffs: [...box.handoffs] };
  }
  /** lease.json of `filer`, as last replaced. */
  lease(filer: string): Mailbox['lease'] {
    return this.#box(filer).lease;
  }
  volume(filer: string): Readonly<Volume> {
    return this.#storage.volume(filer);
  }
  /** Is an action of this type in flight on `node` (issued, not completed)? */
  inflight(node: NodeName, type: IdAction['type']): boolean {
    return [...this.#nodes[node].inflight.values()].some((action) => action.type === type);
  }

  // ---- one step ----

  async stepOnce(): Promise<void> {
    const queued = this.#queue.shift()!;
    if (queued.what.kind === 'call' && queued.what.live?.() === false) return; // a cancelled timer
    this.nowMs = Math.max(this.nowMs, queued.at);
    this.step++;
    this.#happen(queued.what);
    await settle();
    this.#rethrow();
    this.#check();
  }

  #happen(what: Happening): void {
    switch (what.kind) {
      case 'complete':
      case 'deliver':
      case 'link':
      case 'call': {
        const node = this.#nodes[what.node];
        if (!node.alive || node.inc !== what.inc) {
          if (what.kind === 'deliver') this.#log(`${what.node} never gets ${describeMessage(what.message)} (down)`);
          return;
        }
        // A link notice that no longer holds (the link flapped back within detectMs) is not heard.
        if (what.kind === 'link' && what.replayed !== true && what.up !== this.#linkUp) return;
        if (node.paused) return this.#hold(node, what);
        return this.#nodeHappens(node, what);
      }
      case 'world':
        return what.run();
      case 'command':
        return this.#command(this.#commands.get(what.id)!);
      case 'crash':
        return this.#crash(what.node);
      case 'restart':
        return this.#restart(what.node);
      case 'pause':
        return this.#pause(what.node, what.ms);
      case 'resume':
        return this.#resume(what.node);
      case 'mailbox': {
        const node = this.#nodes[what.node];
        if (node.mailboxDown === what.down) return;
        node.mailboxDown = what.down;
        return this.#log(`${what.node}'s mailbox ${what.down ? 'is unreachable' : 'is reachable again'}`);
      }
      case 'slow':
        if (this.#nodes[what.node].slowStorageMs === what.extraMs) return;
        this.#nodes[what.node].slowStorageMs = what.extraMs;
        return this.#log(`${what.node}'s storage ${what.extraMs > 0 ? `slows by ${what.extraMs} ms` : 'is fast again'}`);
      case 'fault': {
        // The runtime's health check (of the process: not while it is stopped or gone).
        const node = this.#nodes[what.node];
        if (!node.alive || node.paused) return;
        return this.#feed(node, { type: 'fault', nowMs: node.clock.nowMs(), filer: what.filer, reason: `injected fault of ${what.filer ?? 'the node'}` }, `fault ${what.filer ?? '(node)'}`);
      }
      case 'healthy': {
        const node = this.#nodes[what.node];
        if (!node.alive || node.paused) return;
        return this.#feed(node, { type: 'healthy', nowMs: node.clock.nowMs() }, 'healthy');
      }
      case 'partition':
      case 'heal':
        return this.#setPartition(what.kind === 'partition');
      case 'jump':
        this.nowMs += what.ms;
        return this.#log(`the pair freezes for ${what.ms} ms (every clock advances)`);
    }
  }

  #nodeHappens(node: NodeState, what: Extract<Happening, { inc: number }>): void {
    switch (what.kind) {
      case 'call':
        return what.run();
      case 'complete':
        return this.#finish(node, what.action, this.#perform(node, what.action, what.inProgress));
      case 'deliver':
        if (this.#partitioned || this.hooks.beforeDeliver?.(what.node, what.message) === 'drop') return this.#log(`${what.node} never gets ${describeMessage(what.message)}`);
        return this.#feed(node, { type: 'message', nowMs: node.clock.nowMs(), message: what.message }, `gets ${describeMessage(what.message)}`);
      case 'link':
        if (node.peerTold === what.up) return;
        node.peerTold = what.up;
        return this.#feed(node, { type: what.up ? 'peer-up' : 'peer-down', nowMs: node.clock.nowMs() }, what.up ? 'peer-up' : 'peer-down');
    }
  }

  /** A paused node: what fell due waits; a claim it issued lands on the storage all the same. */
  #hold(node: NodeState, what: Extract<Happening, { inc: number }>): void {
    if (what.kind === 'complete' && what.action.type === 'claim') {
      const result = this.#perform(node, what.action, 0);
      node.deferred.push({ kind: 'call', node: node.name, inc: node.inc, run: () => this.#finish(node, what.action, result) });
    } else node.deferred.push(what.kind === 'link' ? { ...what, replayed: true } : what);
  }

  #command(command: Command): void {
    const node = this.#nodes[command.node];
    command.inc = node.inc;
    if (!node.alive || node.paused) {
      const why = node.alive ? 'not answering (stopped)' : 'down';
      this.replies.set(command.id, { id: command.id, from: 'admin', atMs: this.nowMs, result: { ok: false, reason: `node ${command.node} is ${why}` } });
      return this.#log(`operator: ${command.id} ${command.kind} ${command.filer} to ${command.node}: node ${why}`);
    }
    const input: Input = { type: 'command', nowMs: node.clock.nowMs(), id: command.id, kind: command.kind, filer: command.filer, ...(command.force ? { force: true } : {}) };
    this.#feed(node, input, `command ${command.id} ${command.kind}${command.force ? ' --force' : ''} ${command.filer}`);
  }

  /** After an action's effect: a crash before `done`, or the `done`. */
  #finish(node: NodeState, action: IdAction, result: ActionResult): void {
    node.inflight.delete(action.id);
    const verdict = this.hooks.afterEffect?.(node.name, action) ?? (this.prng.chance(this.faults.crashAfterEffect) ? 'crash' : undefined);
    if (verdict === 'crash') {
      this.#log(`${node.name} completes ${describeAction(action)} -> ${describeResult(result)}, and crashes before its core hears`);
      return this.#crash(node.name);
    }
    this.#feed(node, { type: 'done', nowMs: node.clock.nowMs(), action: action.id, result }, `done ${describeAction(action)} -> ${describeResult(result)}`);
  }

  /** Hands `input` to the node's core and carries out the actions it returns; logged unless
   *  `quiet` and nothing came of it (ticks, unchanged lease readings). */
  #feed(node: NodeState, input: Input, what: string, quiet = false): void {
    const actions = node.core!.handle(input);
    if (!quiet || actions.length > 0) this.#log(`${node.name} ${what}${actions.length === 0 ? '' : ` => ${actions.map(describeAction).join('; ')}`}`);
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
          if (action.type === 'drain' && !node.serving.has(action.filer)) this.violate(`${node.name} drains ${action.filer}, which it does not serve`);
          if (action.type === 'claim') {
            if (node.serving.has(action.filer)) this.violate(`${node.name} claims ${action.filer}@${action.epoch} while it serves it`);
            node.leases!.claimBegins(action.filer, action.epoch);
          }
          // The lease first, timed from the claim (filer-host.ts serve); it is valid before long.
          if (action.type === 'serve') node.leases!.serveBegins(action.filer, action.epoch);
          node.inflight.set(action.id, action);
          const max = action.type === 'drain' ? this.options.drainInProgressMax : 0;
          const inProgress = action.type === 'drain' ? (this.hooks.drainInProgress?.(node.name) ?? this.prng.int(0, max)) : 0;
          // A drain with calls still running ran to its deadline; storage is slower when slowed.
          const storage = action.type !== 'drain' && action.type !== 'probe' ? node.slowStorageMs : 0;
          const delay = this.hooks.actionDelay?.(node.name, action) ?? (action.type === 'drain' && inProgress > 0 ? action.deadlineMs : this.#delay(this.options.actionDelayMs) + storage);
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
    for (let i = 0; i < copies; i++) this.#schedule(this.#delay(this.options.messageDelayMs), { kind: 'deliver', node: to.name, inc: to.inc, message }, false);
  }

  #onReply(node: NodeState, id: string, result: CommandResult): void {
    if (this.replies.has(id)) this.violate(`${id} answered twice`);
    this.replies.set(id, { id, from: node.name, atMs: this.nowMs, result });
    this.#log(`${node.name} replies ${id}: ${JSON.stringify(result, jsonBigint)}`);
    const command = this.#commands.get(id);
    checkReply(node, id, command?.filer, result, (message) => this.violate(message));
    if (!result.ok && result.forward === true && command !== undefined && !id.endsWith('>')) {
      // The admin layer re-sends a forwarded command to the partner.
      const forwarded = `${id}>`;
      this.#commands.set(forwarded, { id: forwarded, node: partnerOf(node.name), kind: command.kind, filer: command.filer, force: command.force, inc: -1 });
      this.#schedule(this.#delay(this.options.messageDelayMs), { kind: 'command', id: forwarded }, false);
    }
  }

  #onRecord(node: NodeState, event: ClusterEvent): void {
    this.events.push({ node: node.name, realMs: this.nowMs, event });
    checkRecord(node, event, (message) => this.violate(message));
  }

  // ---- faults ----

  #crash(name: NodeName): void {
    const node = this.#nodes[name];
    if (!node.alive) return;
    node.alive = false;
    node.core = undefined;
    node.inc++;
    node.serving.clear();
    node.fenced.clear();
    node.paused = false;
    node.deferred.length = 0;
    node.leases?.stop();
    node.leases = undefined;
    this.#storage.crashed(node);
    node.inflight.clear();
    this.#log(`${name} crashes`);
    this.#updateLink();
  }

  #restart(name: NodeName): void {
    const node = this.#nodes[name];
    if (node.alive) return;
    node.alive = true;
    node.peerTold = false;
    const { autoGiveback } = this.options;
    const core = new NodeCore({
      node: name, partner: partnerOf(name), filers: FILERS, drainDeadlineMs: DRAIN_DEADLINE_MS, operationDeadlineMs: OPERATION_DEADLINE_MS,
      // A restarted node's operation ids must not repeat its earlier life's (the runtime's is random).
      ...(node.inc === 0 ? {} : { incarnation: `i${node.inc}` }),
      ...(autoGiveback === undefined ? {} : { autoGiveback }),
    });
    node.core = this.#wrapCore?.(core, name) ?? core;
    node.leases = this.#leasesOf(node);
    const actions = node.core.start(node.clock.nowMs());
    this.#log(`${name} starts => ${actions.map(describeAction).join('; ')}`);
    this.#carryOut(node, actions);
    const tick = (): void => {
      node.clock.after(this.options.tickMs, tick);
      this.#feed(node, { type: 'tick', nowMs: node.clock.nowMs() }, 'tick', true);
    };
    node.clock.after(this.options.tickMs, tick);
    node.leases.start();
    // Clients write to the filers it serves; a write is acknowledged only through the lease guard.
    const ack = (): void => {
      node.clock.after(this.#delay(this.options.ackEveryMs), ack);
      for (const [filer, epoch] of node.serving) if (node.leases!.isValid(filer, epoch)) this.#ack(node, filer, epoch);
    };
    node.clock.after(this.#delay(this.options.ackEveryMs), ack);
    this.#updateLink();
  }

  #leasesOf(node: NodeState): SimLeases {
    const inc = node.inc;
    const live = (): boolean => node.alive && node.inc === inc;
    return new SimLeases({
      node,
      prng: this.prng,
      writeMs: this.options.leaseWriteMs,
      readMs: this.options.leaseReadMs,
      writeFailure: () => this.faults.leaseWriteFailure,
      later: (delayMs, run) => this.#schedule(delayMs, { kind: 'call', node: node.name, inc, run }, false),
      storage: (delayMs, run) => this.#schedule(delayMs, { kind: 'world', run }, false),
      box: (filer) => this.#box(filer),
      feed: (input, what, quiet) => (live() ? this.#feed(node, input, what, quiet) : undefined),
      safely: (run) => this.safely(run),
      log: (text) => this.#log(text),
    });
  }

  #ack(node: NodeState, filer: string, epoch: bigint): void {
    this.#storage.acknowledge(filer, node.name, epoch, this.servers(filer));
  }

  #pause(name: NodeName, ms: number): void {
    const node = this.#nodes[name];
    if (!node.alive || node.paused) return;
    node.paused = true;
    this.#log(`${name} is stopped (SIGSTOP) for ${ms} ms`);
    this.#schedule(ms, { kind: 'resume', node: name }, false);
    this.#updateLink();
  }

  #resume(name: NodeName): void {
    const node = this.#nodes[name];
    if (!node.paused) return;
    node.paused = false;
    const held = node.deferred.splice(0);
    this.#log(`${name} resumes (SIGCONT), ${held.length} things fell due meanwhile`);
    // They run first, in the order they fell due.
    this.#heldSeq -= held.length;
    held.forEach((what, i) => this.#insert({ at: this.nowMs, seq: this.#heldSeq + i, what, planned: false }));
    this.#updateLink();
  }

  #setPartition(partitioned: boolean): void {
    if (this.#partitioned === partitioned) return;
    this.#partitioned = partitioned;
    this.#log(partitioned ? 'partition' : 'partition heals');
    this.#updateLink();
  }

  /** The link is up when both nodes run and no partition stands; the cores hear of a change later. */
  #updateLink(): void {
    const { a, b } = this.#nodes;
    const up = a.alive && b.alive && !a.paused && !b.paused && !this.#partitioned;
    if (up === this.#linkUp) return;
    this.#linkUp = up;
    for (const node of [a, b]) {
      if (node.alive) this.#schedule(this.options.detectMs, { kind: 'link', node: node.name, inc: node.inc, up }, false);
    }
  }

  // ---- invariants ----

  #check(): void {
    this.#storage.check((filer) => this.servers(filer));
    for (const name of NODE_NAMES) if (this.#nodes[name].alive) checkStatus(this.#nodes[name], (message) => this.violate(message));
  }

  violate(message: string): never {
    const tail = this.trace.slice(-TRACE_TAIL).join('\n  ');
    throw new SimulationError(`seed ${this.seed}, step ${this.step}, t=${round(this.nowMs)} ms: ${message}\n  last ${TRACE_TAIL} events:\n  ${tail}`);
  }

  /** Runs a callback of the keeper or observer, keeping a violation for the end of the step. */
  safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.#failure ??= error;
    }
  }

  #rethrow(): void {
    const failure = this.#failure;
    this.#failure = undefined;
    if (failure !== undefined) throw failure;
  }

  // ---- plumbing ----

  #timer(name: NodeName, atRealMs: number, run: () => void): () => void {
    let live = true;
    const node = this.#nodes[name];
    this.#schedule(atRealMs - this.nowMs, { kind: 'call', node: name, inc: node.inc, run: () => ((live = false), run()), live: () => live }, false);
    return () => {
      live = false;
    };
  }

  #schedule(delayMs: number, what: Happening, planned: boolean): void {
    this.#insert({ at: this.nowMs + Math.max(0, delayMs), seq: this.#seq++, what, planned });
  }

  #insert(queued: Queued): void {
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
    return this.#storage.box(filer);
  }

  #perform(node: NodeState, action: IdAction, inProgress: number): ActionResult {
    const hooked = this.hooks.actionFailure?.(node.name, action);
    const random = this.prng.chance(this.faults.actionFailure) ? `injected ${action.type} failure` : undefined;
    const injected = hooked !== undefined ? { error: hooked, mayLand: false } : random === undefined ? undefined : { error: random, mayLand: true };
    const probe = action.type === 'probe' && injected === undefined ? this.hooks.probe?.(node.name, action.filer) : undefined;
    if (probe !== undefined) return { ok: true, probe };
    return this.#storage.perform(node, action, inProgress, injected, this.#nodes[partnerOf(node.name)].alive);
  }

  #log(text: string): void {
    this.trace.push(`#${this.step} @${round(this.nowMs)} ${text}`);
  }
}

const round = (ms: number): number => Math.round(ms * 1000) / 1000;
