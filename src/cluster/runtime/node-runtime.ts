// One `tandem node`: the runtime around the pure core (docs/design/takeover.md). Layer:
// cluster/runtime. It feeds the core its inputs (ticks, interconnect events, partner messages,
// operator commands, action completions) and carries out the actions the core returns: partner
// messages over the interconnect, mailbox reads and claims, drains, releases and serving through
// each filer's FilerHost. It implements the admin API's ClusterService (src/admin/
// cluster-service.ts) structurally, without importing that layer.
//
// The core's clock is the process's monotonic clock (monotonic-clock.ts): a wall-clock step can
// neither end an operation early nor bring a failure takeover forward. Events are stamped with
// the wall clock when recorded, for people.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../../platform/logger.js';
import type { ClusterConfig, NodeConfig } from '../config.js';
import { NodeCore } from '../core/node-core.js';
import type { Action, ActionResult, ClusterEvent, CommandResult, Input, OperationKind } from '../core/types.js';
import { Interconnect, type JsonValue } from '../interconnect/interconnect.js';
import { addressBackendFor, type AddressBackend } from '../address/address-backend.js';
import { connectionsFromWire, connectionsToWire } from './connection-report.js';
import { faultsFromEnvironment, type Faults } from './fault-injection.js';
import { FilerHost } from './filer-host.js';
import { HealthCheck } from './health-check.js';
import { monotonicNowMs } from './monotonic-clock.js';
import { mirrorBatchFromWire, mirrorStoreFromWire } from './reply-mirror.js';
import { isGone } from './process-gone.js';
import { eventJson, statusReport, type EventJson } from './status-report.js';
import { messageFromWire, messageToWire } from './wire-messages.js';

/** How often the core is ticked (its deadlines are checked). */
export const TICK_MS = 50;
/** Events kept for `events` and status. */
export const EVENTS_KEPT = 256;
/** A partner message not delivered within this is lost (the core tolerates loss). */
export const MESSAGE_TIMEOUT_MS = 2000;
/** Beyond the operation deadline, how long a forwarded command may take to answer. */
const FORWARD_SLACK_MS = 5000;
/**
 * How often the lease of each filer not served here is read. The partner claims an unrenewed
 * lease once it has seen it unchanged for leaseMs × (1 + ρ) + marginMs, counted from the read
 * that first saw its last renewal: reading often keeps that read close to the renewal.
 */
export const LEASE_POLL_MS = 100;
/** How long the gone probe keeps asking, and how often (fencing.md, "A process that is gone"). */
export const PROBE_PERSIST_MS = 500;
export const PROBE_RETRY_MS = 25;
/** How often the client connections of each served filer are reported to the partner, when they changed. */
export const CONNECTIONS_REPORT_MS = 250;

type Report = { ok: true; event: EventJson } | { ok: false; reason: string };

export class NodeRuntime {
  readonly #config: ClusterConfig;
  readonly #node: NodeConfig;
  readonly #partner: NodeConfig;
  readonly #log: Logger;
  readonly #core: NodeCore;
  readonly #hosts = new Map<string, FilerHost>();
  readonly #interconnect: Interconnect;
  readonly #commands = new Map<string, (result: CommandResult) => void>();
  readonly #events: EventJson[] = [];
  readonly #health: HealthCheck | undefined;
  readonly #faults: Faults | undefined;
  readonly #addresses: AddressBackend;
  /** What was last reported of each served filer's connections. */
  readonly #reportedConnections = new Map<string, string>();
  #connectionReports: NodeJS.Timeout | undefined;
  #nextCommand = 1;
  #ticker: NodeJS.Timeout | undefined;
  #leasePoll: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(config: ClusterConfig, node: NodeConfig, log: Logger, hosts: FilerHost[], addresses: AddressBackend) {
    this.#config = config;
    this.#addresses = addresses;
    this.#node = node;
    this.#partner = config.partnerOf(node.name);
    this.#log = log;
    for (const host of hosts) this.#hosts.set(host.config.name, host);
    this.#core = new NodeCore({
      node: node.name,
      partner: this.#partner.name,
      filers: hosts.map((host) => ({ name: host.config.name, home: host.config.home })),
      drainDeadlineMs: config.timing.drainDeadlineMs,
      operationDeadlineMs: config.timing.operationDeadlineMs,
      incarnation: randomBytes(4).toString('hex'),
      releasedGraceMs: config.timing.leaseMs + config.timing.leaseMarginMs,
      ...(config.autoGiveback.enabled ? { autoGiveback: config.autoGiveback } : {}),
    });
    this.#health = config.health === undefined
      ? undefined
      : new HealthCheck(config.health, node.name, log, (healthy, reason) =>
          this.#input(healthy ? { type: 'healthy', nowMs: monotonicNowMs() } : { type: 'fault', nowMs: monotonicNowMs(), filer: undefined, reason }),
        );
    this.#faults = faultsFromEnvironment(log);
    const faults = this.#faults;
    this.#interconnect = new Interconnect({
      node: node.name,
      partner: this.#partner.name,
      cluster: config.name,
      secret: config.secret,
      listen: node.interconnect,
      dial: this.#partner.interconnect,
      heartbeatIntervalMs: config.timing.heartbeatIntervalMs,
      peerTimeoutMs: config.timing.peerTimeoutMs,
      log,
      ...(faults === undefined ? {} : { isCut: () => faults.interconnectCut() }),
    });
  }

  /** Starts node `name` of `config`: interconnect up, then every filer of the pair inspected. */
  static async start(config: ClusterConfig, name: string, log: Logger): Promise<NodeRuntime> {
    const node = config.nodeNamed(name);
    if (node === undefined) throw new Error(`no node named "${name}" in the configuration`);
    const pair = new Set([node.name, config.partnerOf(node.name).name]);
    const nodeLog = log.child({ node: node.name });
    let runtime: NodeRuntime | undefined;
    const addresses = addressBackendFor(config, node.name, nodeLog);
    await addresses.start();
    const hosts = await Promise.all(
      config.filers
        .filter((filer) => pair.has(filer.home))
        .map((filer) =>
          FilerHost.open({
            config: filer,
            node: node.name,
            mailboxDirectory: node.mailbox ?? config.mailbox,
            timing: config.timing,
            addresses,
            log: nodeLog,
            onLeaseLost: (name, epoch, reason) => runtime?.leaseLost(name, epoch, reason),
            mirror: async (name, epoch, packed) => runtime?.mirror(name, epoch, packed),
            onFault: (name, reason) => runtime?.fault(name, reason),
          }),
        ),
    );
    runtime = new NodeRuntime(config, node, nodeLog, hosts, addresses);
    await runtime.#start();
    return runtime;
  }

  async #start(): Promise<void> {
    this.#interconnect.on('peer-up', () => this.#input({ type: 'peer-up', nowMs: monotonicNowMs() }));
    this.#interconnect.on('peer-down', () => this.#input({ type: 'peer-down', nowMs: monotonicNowMs() }));
    this.#interconnect.onRequest((type, body, attachment) => this.#onRequest(type, body, attachment));
    await this.#interconnect.start();
    this.#apply(this.#core.start(monotonicNowMs()));
    this.#ticker = setInterval(() => this.#input({ type: 'tick', nowMs: monotonicNowMs() }), TICK_MS);
    this.#pollLeases();
    this.#connectionReports = setInterval(() => this.#reportConnections(), CONNECTIONS_REPORT_MS);
    this.#health?.start();
  }

  /**
   * Stops the node: the filers it serves are drained and released (hand-off, lease released), so
   * the partner may take them over at once; what it did not serve is left as it is.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#ticker);
    clearTimeout(this.#leasePoll);
    clearInterval(this.#connectionReports);
    this.#health?.stop();
    this.#faults?.stop();
    for (const resolve of this.#commands.values()) resolve({ ok: false, reason: `node ${this.#node.name} is stopping` });
    this.#commands.clear();
    // Release first, interconnect last: while it is up, the partner's probe cannot find this
    // process gone and claim before the hand-off is written.
    await Promise.all([...this.#hosts.values()].map((host) => host.stop()));
    await this.#addresses.stop();
    await this.#interconnect.stop();
    this.#log.info('node stopped');
  }

  /**
   * Sends cached replies to the partner, which serves with them if it takes the filer over;
   * resolves with the id of the partner's store that kept them, or undefined if none did.
   */
  async mirror(filer: string, epoch: bigint, packed: Buffer): Promise<string | undefined> {
    if (!this.#interconnect.isUp) return undefined;
    try {
      const answer = await this.#interconnect.request('mirror', { filer, epoch: String(epoch) }, MESSAGE_TIMEOUT_MS, packed);
      return mirrorStoreFromWire(answer);
    } catch (error) {
      this.#log.debug({ filer, err: messageOf(error) }, 'mirrored replies not delivered');
      return undefined;
    }
  }

  /**
   * Tells the partner the client connections of each filer served here, when they changed, so
   * that after a failure takeover it can make those clients reconnect at once (connection-tickle.ts).
   */
  #reportConnections(): void {
    if (!this.#interconnect.isUp) return this.#reportedConnections.clear();
    for (const host of this.#hosts.values()) {
      const connections = host.connections();
      const epoch = host.epoch;
      if (connections === undefined || epoch === undefined) {
        this.#reportedConnections.delete(host.config.name);
        continue;
      }
      const body = connectionsToWire(host.config.name, epoch, connections);
      const key = JSON.stringify(body);
      if (this.#reportedConnections.get(host.config.name) === key) continue;
      this.#reportedConnections.set(host.config.name, key);
      this.#interconnect.request('connections', body, MESSAGE_TIMEOUT_MS).catch((error: unknown) => {
        this.#reportedConnections.delete(host.config.name);
        this.#log.debug({ filer: host.config.name, err: messageOf(error) }, 'client connections not reported');
      });
    }
  }

  /** A fault of a filer served here that this node cannot recover from (negotiated takeover). */
  fault(filer: string, reason: string): void {
    this.#input({ type: 'fault', nowMs: monotonicNowMs(), filer, reason });
  }

  /** A filer host's lease lapsed (it has stopped serving the filer already). */
  leaseLost(filer: string, epoch: bigint, reason: string): void {
    this.#input({ type: 'lease-lost', nowMs: monotonicNowMs(), filer, epoch, reason });
  }

  /** Reads the lease of every filer not served here, one round at a time, every LEASE_POLL_MS. */
  #pollLeases(): void {
    if (this.#stopped) return;
    const began = monotonicNowMs();
    const reads = [...this.#hosts.values()]
      .filter((host) => !host.serving)
      .map(async (host) => {
        const lease = await host.observeLease();
        this.#input({ type: 'lease', nowMs: monotonicNowMs(), filer: host.config.name, lease });
      });
    void Promise.allSettled(reads).then(() => {
      if (this.#stopped) return;
      this.#leasePoll = setTimeout(() => this.#pollLeases(), Math.max(0, LEASE_POLL_MS - (monotonicNowMs() - began)));
    });
  }

  // ---- the admin API's service ----

  async command(kind: OperationKind, filer: string, options: { readonly force?: boolean } = {}): Promise<Report> {
    const force = options.force === true;
    const result = await this.#commandHere(kind, filer, force);
    if (result.ok) return { ok: true, event: eventJson(result.event, wallClockOf(result.event.atMs)) };
    if (result.forward !== true) return { ok: false, reason: result.reason };
    const partner = this.#partner.name;
    if (!this.#interconnect.isUp) {
      return { ok: false, reason: `${kind} ${filer}: ${this.#node.name} serves it, so ${partner} must carry it out, and ${partner} is down` };
    }
    try {
      const timeoutMs = this.#config.timing.operationDeadlineMs + FORWARD_SLACK_MS;
      return reportFromWire(await this.#interconnect.request('command', { kind, filer, force }, timeoutMs));
    } catch (error) {
      return { ok: false, reason: `${kind} ${filer}: forwarded to ${partner}, which did not answer: ${messageOf(error)}` };
    }
  }

  async events(): Promise<readonly EventJson[]> {
    return [...this.#events];
  }

  async status() {
    const core = this.#core.status();
    const hosts = [...this.#hosts.values()];
    const views = await Promise.all(hosts.map(async (host) => [host.config.name, { mailbox: await host.inspect(), addresses: host.config.addresses, urls: host.urls() }] as const));
    return statusReport({
      cluster: this.#config.name,
      node: this.#node,
      partner: this.#partner,
      core,
      interconnectUp: this.#interconnect.isUp,
      heardAgoMs: this.#interconnect.heardAgoMs,
      filers: new Map(views),
      events: this.#events,
    });
  }

  // ---- inputs and actions ----

  #commandHere(kind: OperationKind, filer: string, force: boolean): Promise<CommandResult> {
    const id = `command-${this.#nextCommand++}`;
    const result = new Promise<CommandResult>((resolve) => this.#commands.set(id, resolve));
    this.#input({ type: 'command', nowMs: monotonicNowMs(), id, kind, filer, ...(force ? { force } : {}) });
    return result;
  }

  async #onRequest(type: string, body: JsonValue, attachment: Buffer | undefined): Promise<JsonValue> {
    if (type === 'core') {
      const message = messageFromWire(body);
      if (typeof message === 'string') {
        this.#log.warn({ reason: message }, 'malformed message from the partner dropped');
        return null;
      }
      this.#input({ type: 'message', nowMs: monotonicNowMs(), message });
      return null;
    }
    if (type === 'mirror') {
      const batch = mirrorBatchFromWire(body, attachment);
      if (typeof batch === 'string') throw new Error(`malformed mirror batch: ${batch}`);
      const store = this.#hosts.get(batch.filer)?.acceptMirror(batch.epoch, batch.replies);
      return store === undefined ? null : { store };
    }
    if (type === 'connections') {
      const report = connectionsFromWire(body);
      if (typeof report === 'string') throw new Error(`malformed connection report: ${report}`);
      this.#hosts.get(report.filer)?.acceptConnections(report.epoch, report.connections);
      return null;
    }
    if (type === 'command' && typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const { kind, filer, force } = body as { readonly [key: string]: JsonValue };
      if ((kind === 'takeover' || kind === 'giveback') && typeof filer === 'string') {
        const result = await this.#commandHere(kind, filer, force === true);
        if (result.ok) return { ok: true, event: eventJson(result.event, wallClockOf(result.event.atMs)) as unknown as JsonValue };
        return { ok: false, reason: result.forward === true ? `${kind} ${filer}: both nodes say they serve it` : result.reason };
      }
    }
    throw new Error(`unknown request ${JSON.stringify(type)}`);
  }

  #input(input: Input): void {
    if (this.#stopped) return;
    this.#apply(this.#core.handle(input));
  }

  #apply(actions: readonly Action[]): void {
    for (const action of actions) this.#carryOut(action);
  }

  #carryOut(action: Action): void {
    switch (action.type) {
      case 'send':
        this.#interconnect.request('core', messageToWire(action.message), MESSAGE_TIMEOUT_MS).catch((error: unknown) => {
          this.#log.debug({ message: action.message.type, err: messageOf(error) }, 'partner message not delivered');
        });
        return;
      case 'reply': {
        const resolve = this.#commands.get(action.command);
        this.#commands.delete(action.command);
        resolve?.(action.result);
        return;
      }
      case 'record':
        return this.#record(action.event);
      case 'inspect':
        return this.#run(action, async () => ({ ok: true, mailbox: await this.#host(action.filer).inspect() }));
      case 'drain':
        return this.#run(action, async () => ({ ok: true, drained: await this.#host(action.filer).drain(action.deadlineMs) }));
      case 'release':
        return this.#run(action, async () => {
          await this.#host(action.filer).release(action.epoch);
          return { ok: true };
        });
      case 'claim':
        return this.#run(action, async () => ({ ok: true, claim: await this.#host(action.filer).claim(action.epoch) }));
      case 'serve':
        return this.#run(action, async () => {
          await this.#host(action.filer).serve(action.epoch, action.handoffEpoch, action.state, this.#log);
          return { ok: true };
        });
      case 'probe':
        return this.#run(action, async () => ({ ok: true, probe: await this.#probe(action.filer) }));
    }
  }

  /**
   * Is the partner's process gone? Only if its interconnect endpoint and every address of the
   * filer refuse connections (fencing.md, "A process that is gone, told from one that is stalled").
   */
  async #probe(filer: string): Promise<{ gone: boolean; detail: string }> {
    const host = this.#host(filer);
    // The partner's own endpoints; with the loopback backend, the filer's addresses too (with the
    // linux backend they leave the partner's host as soon as its process is gone).
    const filerEndpoints = this.#config.addressBackend === 'loopback' ? host.config.addresses.map((address) => ({ host: address, port: host.config.port })) : [];
    const endpoints = [this.#partner.interconnect, this.#partner.admin, ...filerEndpoints];
    // A process being killed may still complete a handshake on a listener for a moment after its
    // connections closed: ask again for a short while before calling it a stall.
    const until = monotonicNowMs() + PROBE_PERSIST_MS;
    let gone = await isGone(endpoints);
    while (!gone && !this.#interconnect.isUp && !this.#stopped && monotonicNowMs() < until) {
      await new Promise((resolve) => setTimeout(resolve, PROBE_RETRY_MS));
      gone = await isGone(endpoints);
    }
    const where = endpoints.map((e) => `${e.host}:${e.port}`).join(', ');
    return { gone, detail: gone ? `connections refused on ${where}` : `not refused everywhere on ${where}` };
  }

  /** Runs an action's work and reports its completion to the core. */
  #run(action: Extract<Action, { id: number }>, work: () => Promise<ActionResult>): void {
    const { id, type } = action;
    this.#faults?.crashPoint(`before-${type}`);
    work().then(
      (result) => {
        this.#faults?.crashPoint(`after-${type}`);
        return result;
      },
    ).then(
      (result) => this.#input({ type: 'done', nowMs: monotonicNowMs(), action: id, result }),
      (error: unknown) => {
        this.#log.error({ action: id, err: messageOf(error) }, 'cluster action failed');
        this.#input({ type: 'done', nowMs: monotonicNowMs(), action: id, result: { ok: false, error: messageOf(error) } });
      },
    );
  }

  #record(event: ClusterEvent): void {
    const json = eventJson(event, wallClockOf(event.atMs));
    this.#events.push(json);
    if (this.#events.length > EVENTS_KEPT) this.#events.shift();
    this.#log.info({ event: json }, `${event.kind} ${event.filer}: ${event.outcome}`);
  }

  #host(filer: string): FilerHost {
    const host = this.#hosts.get(filer);
    if (host === undefined) throw new Error(`filer ${filer} is not hosted by this pair`);
    return host;
  }
}

/** The wall-clock time of an instant of the monotonic clock (events are shown to people). */
function wallClockOf(monotonicMs: number): number {
  return Math.round(Date.now() - (monotonicNowMs() - monotonicMs));
}

function reportFromWire(body: JsonValue): Report {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) {
    const fields = body as { readonly [key: string]: JsonValue };
    if (fields.ok === true && typeof fields.event === 'object' && fields.event !== null) return { ok: true, event: fields.event as unknown as EventJson };
    if (fields.ok === false && typeof fields.reason === 'string') return { ok: false, reason: fields.reason };
  }
  return { ok: false, reason: 'the partner answered something that is not a command report' };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
