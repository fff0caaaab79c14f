// One `tandem node`: the runtime around the pure core (docs/design/takeover.md). Layer:
// cluster/runtime. It feeds the core its inputs (ticks, interconnect events, partner messages,
// operator commands, action completions) and carries out the actions the core returns: partner
// messages over the interconnect, mailbox reads and claims, drains, releases and serving through
// each filer's FilerHost. It implements the admin API's ClusterService (src/admin/
// cluster-service.ts) structurally, without importing that layer.
//
// The core's clock is the wall clock (Date.now): deadlines here are seconds long, and a clock
// jump can at worst end an operation early, which the mailbox makes safe. Issue 4's leases will
// need a monotonic clock.

import { randomBytes } from 'node:crypto';
import type { Logger } from '../../platform/logger.js';
import type { ClusterConfig, NodeConfig } from '../config.js';
import { NodeCore } from '../core/node-core.js';
import type { Action, ActionResult, ClusterEvent, CommandResult, Input, OperationKind } from '../core/types.js';
import { Interconnect, type JsonValue } from '../interconnect/interconnect.js';
import { FilerHost } from './filer-host.js';
import { messageFromWire, messageToWire } from './wire-messages.js';

/** How often the core is ticked (its deadlines are checked). */
export const TICK_MS = 50;
/** Events kept for `events` and status. */
export const EVENTS_KEPT = 256;
/** A partner message not delivered within this is lost (the core tolerates loss). */
export const MESSAGE_TIMEOUT_MS = 2000;
/** Beyond the operation deadline, how long a forwarded command may take to answer. */
const FORWARD_SLACK_MS = 5000;

type Report = { ok: true; event: EventJson } | { ok: false; reason: string };

interface EventJson {
  readonly atMs: number;
  readonly node: string;
  readonly filer: string;
  readonly kind: ClusterEvent['kind'];
  readonly outcome: ClusterEvent['outcome'];
  readonly epoch: string | null;
  readonly phases: Readonly<Record<string, number>>;
  readonly detail: string | null;
}

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
  #nextCommand = 1;
  #ticker: NodeJS.Timeout | undefined;
  #stopped = false;

  private constructor(config: ClusterConfig, node: NodeConfig, log: Logger, hosts: FilerHost[]) {
    this.#config = config;
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
    });
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
    });
  }

  /** Starts node `name` of `config`: interconnect up, then every filer of the pair inspected. */
  static async start(config: ClusterConfig, name: string, log: Logger): Promise<NodeRuntime> {
    const node = config.nodeNamed(name);
    if (node === undefined) throw new Error(`no node named "${name}" in the configuration`);
    const pair = new Set([node.name, config.partnerOf(node.name).name]);
    const hosts = await Promise.all(
      config.filers.filter((filer) => pair.has(filer.home)).map((filer) => FilerHost.open(filer, node.name, config.mailbox, log)),
    );
    const runtime = new NodeRuntime(config, node, log.child({ node: node.name }), hosts);
    await runtime.#start();
    return runtime;
  }

  async #start(): Promise<void> {
    this.#interconnect.on('peer-up', () => this.#input({ type: 'peer-up', nowMs: Date.now() }));
    this.#interconnect.on('peer-down', () => this.#input({ type: 'peer-down', nowMs: Date.now() }));
    this.#interconnect.onRequest((type, body) => this.#onRequest(type, body));
    await this.#interconnect.start();
    this.#apply(this.#core.start(Date.now()));
    this.#ticker = setInterval(() => this.#input({ type: 'tick', nowMs: Date.now() }), TICK_MS);
  }

  /** Stops the node: nothing is released; the mailbox still names it owner of what it served. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#ticker);
    for (const resolve of this.#commands.values()) resolve({ ok: false, reason: `node ${this.#node.name} is stopping` });
    this.#commands.clear();
    await this.#interconnect.stop();
    await Promise.all([...this.#hosts.values()].map((host) => host.stop()));
    this.#log.info('node stopped');
  }

  // ---- the admin API's service ----

  async command(kind: OperationKind, filer: string): Promise<Report> {
    const result = await this.#commandHere(kind, filer);
    if (result.ok) return { ok: true, event: eventJson(result.event) };
    if (result.forward !== true) return { ok: false, reason: result.reason };
    const partner = this.#partner.name;
    if (!this.#interconnect.isUp) {
      return { ok: false, reason: `${kind} ${filer}: ${this.#node.name} serves it, so ${partner} must carry it out, and ${partner} is down` };
    }
    try {
      const timeoutMs = this.#config.timing.operationDeadlineMs + FORWARD_SLACK_MS;
      return reportFromWire(await this.#interconnect.request('command', { kind, filer }, timeoutMs));
    } catch (error) {
      return { ok: false, reason: `${kind} ${filer}: forwarded to ${partner}, which did not answer: ${messageOf(error)}` };
    }
  }

  async events(): Promise<readonly EventJson[]> {
    return [...this.#events];
  }

  async status() {
    const core = this.#core.status();
    const now = Date.now();
    const heardAgoMs = this.#interconnect.heardAgoMs;
    const filers = await Promise.all(
      core.filers.map(async (filer) => {
        const host = this.#hosts.get(filer.name)!;
        const view = await host.inspect();
        return {
          name: filer.name,
          home: filer.home,
          servedBy: view.state === 'released' ? null : (view.owner ?? null),
          state: view.state ?? ('unknown' as const),
          epoch: view.epoch === undefined ? null : String(view.epoch),
          phase: filer.phase,
          addresses: host.config.addresses,
          urls: host.urls(),
        };
      }),
    );
    const endpoint = (node: NodeConfig) => `${node.admin.host}:${node.admin.port}`;
    const last = (kind: OperationKind) => [...this.#events].reverse().find((event) => event.kind === kind) ?? null;
    return {
      cluster: this.#config.name,
      node: this.#node.name,
      generatedAtMs: now,
      nodes: [
        { name: this.#node.name, partner: this.#partner.name, self: true, up: true, interconnectUp: this.#interconnect.isUp, lastHeardAgoMs: 0, admin: endpoint(this.#node) },
        {
          name: this.#partner.name,
          partner: this.#node.name,
          self: false,
          up: this.#interconnect.isUp,
          interconnectUp: this.#interconnect.isUp,
          lastHeardAgoMs: heardAgoMs === undefined ? null : Math.round(heardAgoMs),
          admin: endpoint(this.#partner),
        },
      ],
      filers,
      operation: core.operation ?? null,
      lastTakeover: last('takeover'),
      lastGiveback: last('giveback'),
    };
  }

  // ---- inputs and actions ----

  #commandHere(kind: OperationKind, filer: string): Promise<CommandResult> {
    const id = `command-${this.#nextCommand++}`;
    const result = new Promise<CommandResult>((resolve) => this.#commands.set(id, resolve));
    this.#input({ type: 'command', nowMs: Date.now(), id, kind, filer });
    return result;
  }

  async #onRequest(type: string, body: JsonValue): Promise<JsonValue> {
    if (type === 'core') {
      const message = messageFromWire(body);
      if (typeof message === 'string') {
        this.#log.warn({ reason: message }, 'malformed message from the partner dropped');
        return null;
      }
      this.#input({ type: 'message', nowMs: Date.now(), message });
      return null;
    }
    if (type === 'command' && typeof body === 'object' && body !== null && !Array.isArray(body)) {
      const { kind, filer } = body as { readonly [key: string]: JsonValue };
      if ((kind === 'takeover' || kind === 'giveback') && typeof filer === 'string') {
        const result = await this.#commandHere(kind, filer);
        if (result.ok) return { ok: true, event: eventJson(result.event) as unknown as JsonValue };
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
        return this.#run(action.id, async () => ({ ok: true, mailbox: await this.#host(action.filer).inspect() }));
      case 'drain':
        return this.#run(action.id, async () => ({ ok: true, drained: await this.#host(action.filer).drain(action.deadlineMs) }));
      case 'release':
        return this.#run(action.id, async () => {
          await this.#host(action.filer).release(action.epoch);
          return { ok: true };
        });
      case 'claim':
        return this.#run(action.id, async () => ({ ok: true, claim: await this.#host(action.filer).claim(action.epoch) }));
      case 'serve':
        return this.#run(action.id, async () => {
          await this.#host(action.filer).serve(action.epoch, action.handoffEpoch, action.state, this.#log);
          return { ok: true };
        });
    }
  }

  /** Runs an action's work and reports its completion to the core. */
  #run(id: number, work: () => Promise<ActionResult>): void {
    work().then(
      (result) => this.#input({ type: 'done', nowMs: Date.now(), action: id, result }),
      (error: unknown) => {
        this.#log.error({ action: id, err: messageOf(error) }, 'cluster action failed');
        this.#input({ type: 'done', nowMs: Date.now(), action: id, result: { ok: false, error: messageOf(error) } });
      },
    );
  }

  #record(event: ClusterEvent): void {
    const json = eventJson(event);
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

function eventJson(event: ClusterEvent): EventJson {
  return {
    atMs: event.atMs,
    node: event.node,
    filer: event.filer,
    kind: event.kind,
    outcome: event.outcome,
    epoch: event.epoch === undefined ? null : String(event.epoch),
    phases: { ...event.phases },
    detail: event.detail ?? null,
  };
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
