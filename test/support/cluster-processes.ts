// A real filer pair for integration tests: `tandem init` (initCluster) into a scratch directory
// with free ports and the filer addresses 127.0.0.21 and 127.0.0.22 (so a demo pair on
// 127.0.0.11/12 cannot collide), both `tandem node` processes, and the operator commands
// (status, takeover, giveback) run through the real CLI with --json. Readiness is polled from
// the admin API under a deadline, never a guessed sleep (docs/design/takeover.md).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { AdminClient } from '../../src/admin/admin-client.js';
import { adminToken } from '../../src/admin/admin-token.js';
import { settledAtHome, type CommandReport, type EventReport, type FilerReport, type OperationKind, type StatusReport } from '../../src/admin/cluster-service.js';
import { loadConfig, type ClusterConfig } from '../../src/cluster/config.js';
import { initCluster } from '../../src/cluster/init.js';
import { SERVER_NODE_OPTIONS } from '../../src/platform/server-heap.js';
import { nfsUrl } from '../../src/server/nfs-url.js';
import { run, TANDEM_MAIN, type RunResult } from './processes.js';
import { scratchDirectory } from './scratch.js';

/** The filers' service addresses: apart from the demo's 127.0.0.11 and 127.0.0.12. */
export const TEST_FILER_ADDRESSES: readonly [string, string] = ['127.0.0.21', '127.0.0.22'];
export const NODE_NAMES: readonly [string, string] = ['a', 'b'];
/** How long a node may take to start and serve what it owns, or to stop after SIGTERM. */
export const NODE_START_DEADLINE_MS = 20_000;
export const NODE_STOP_DEADLINE_MS = 15_000;
/** How long a CLI command may run (a takeover is bounded by the operation deadline, 10 s). */
export const CLI_DEADLINE_MS = 30_000;
const POLL_INTERVAL_MS = 50;
const ADMIN_POLL_TIMEOUT_MS = 2_000;
const FREE_PORT_ATTEMPTS = 20;

/** A port nothing listens on at `host` now (the kernel picks it; freed right away). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/**
 * `count` ports nothing listens on at `host` now, all different: each is held until the last is
 * picked (ports picked one at a time and freed at once may come back twice), then all are freed.
 */
export async function freePorts(host: string, count: number): Promise<number[]> {
  const servers: net.Server[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const server = net.createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, host, () => resolve());
      });
    }
    return servers.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(servers.map((server) => new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()))));
  }
}

/** Whether `port` can be listened on at `host` now. */
function portIsFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/** One port free on every host: the filers share one port on their own addresses. */
async function portFreeOnAll(hosts: readonly string[]): Promise<number> {
  for (let attempt = 0; attempt < FREE_PORT_ATTEMPTS; attempt++) {
    const port = await freePort(hosts[0]!);
    let free = true;
    for (const host of hosts.slice(1)) free &&= await portIsFree(host, port);
    if (free) return port;
  }
  throw new Error(`no port free on all of ${hosts.join(', ')} after ${FREE_PORT_ATTEMPTS} attempts`);
}

/**
 * Initialises a pair (nodes a and b) in `directory` on `filerAddresses`, with free ports on
 * loopback for the interconnect and the admin APIs and one free on both filer addresses.
 */
export async function initTestCluster(directory: string, filerAddresses = TEST_FILER_ADDRESSES): Promise<{ configFile: string; filerPort: number }> {
  // Four different ports: one picked and freed at a time, the kernel may hand one out twice.
  const [interconnectA, interconnectB, adminA, adminB] = await freePorts('127.0.0.1', 4);
  const endpoints = {
    interconnectPorts: [interconnectA!, interconnectB!] as const,
    adminPorts: [adminA!, adminB!] as const,
    filerAddresses,
    filerPort: await portFreeOnAll(filerAddresses),
  };
  const { configFile } = await initCluster(directory, { nodes: NODE_NAMES, endpoints });
  return { configFile, filerPort: endpoints.filerPort };
}

/** What a `tandem takeover|giveback FILER --json` printed and how it exited. */
export interface CommandOutcome {
  readonly code: number | null;
  readonly report: CommandReport;
  readonly stderr: string;
}

/** Where each filer is and in what state, as one node reports it: for "nothing changed". */
export type Placement = Record<string, { servedBy: string | null; state: FilerReport['state']; epoch: string | null }>;

export function placement(status: StatusReport): Placement {
  return Object.fromEntries(status.filers.map((filer) => [filer.name, { servedBy: filer.servedBy, state: filer.state, epoch: filer.epoch }]));
}

/** The report of filer `name`; throws when the status has none. */
export function filerIn(status: StatusReport, name: string): FilerReport {
  const filer = status.filers.find((candidate) => candidate.name === name);
  if (filer === undefined) throw new Error(`status of ${status.node} has no filer ${name}: ${JSON.stringify(status)}`);
  return filer;
}

class NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Resolves once the process has exited (with its code or signal). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Set when the test means the process to die (kill -9, a crash point, a self-fence): waits do not fail on its exit. */
  mayExit = false;
  /** Stopped with SIGSTOP and not resumed yet. */
  paused = false;
  readonly #stderr: string[] = [];

  constructor(name: string, configFile: string, env: NodeJS.ProcessEnv = process.env) {
    this.name = name;
    this.child = spawn(process.execPath, [...SERVER_NODE_OPTIONS, TANDEM_MAIN, 'node', '--config', configFile, '--node', name], { stdio: ['ignore', 'ignore', 'pipe'], env });
    this.child.stderr!.on('data', (chunk: Buffer) => this.#stderr.push(chunk.toString()));
    this.exit = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  get stderr(): string {
    return this.#stderr.join('');
  }

  /** SIGTERM, then the exit code within the deadline (SIGKILL and a rejection past it). */
  stop(deadlineMs = NODE_STOP_DEADLINE_MS): Promise<number | null> {
    if (this.exited) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`node ${this.name} did not exit within ${deadlineMs} ms of SIGTERM\n${this.stderr}`));
      }, deadlineMs);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      // A stopped process would take the SIGTERM only once resumed.
      if (this.paused) this.child.kill('SIGCONT');
      this.paused = false;
      this.child.kill('SIGTERM');
    });
  }
}

/** Where a filer stands in the shared mailbox, read from its files directly (not through the product's code). */
export interface MailboxReading {
  /** The highest epoch claim present (decimal), null when none. */
  readonly epoch: string | null;
  /** The node holding that claim. */
  readonly owner: string | null;
  /** The state record's state, epoch and owner (null when there is no record). */
  readonly state: string | null;
  readonly stateEpoch: string | null;
  readonly stateOwner: string | null;
}

/** The faults a node's fault file asks for (src/cluster/runtime/fault-injection.ts). */
export interface InjectedFaults {
  readonly interconnect?: 'cut';
  /** before-/after- + inspect|drain|release|claim|serve|probe: SIGKILL at that point. */
  readonly crash?: string;
}

export interface ClusterPairOptions {
  /** Keys merged into the configuration's `timing` section. */
  readonly timing?: Readonly<Record<string, number>>;
  /** The configuration's `autoGiveback` section. */
  readonly autoGiveback?: { readonly enabled: boolean; readonly delayMs?: number; readonly attemptsMax?: number; readonly windowMs?: number };
  /** The configuration's `health` section; a function gets the pair's scratch directory (for marker files). */
  readonly health?: HealthSection | ((scratch: string) => HealthSection);
  /**
   * Nodes that reach the mailbox through a symbolic link of their own (`nodes[i].mailbox`),
   * which breakMailbox(node) points at nothing and restoreMailbox(node) mends.
   */
  readonly mailboxLinks?: readonly string[];
  /** Start every node with TANDEM_FAULT_FILE set to a file of its own (see setFault). */
  readonly faults?: boolean;
  /** The two filers' addresses (default TEST_FILER_ADDRESSES): a benchmark picks others. */
  readonly filerAddresses?: readonly [string, string];
  /** Wait until both nodes serve their filers (default true). */
  readonly settle?: boolean;
  /**
   * Start the nodes one at a time in this order, each once the one before serves its own filers
   * (default: both at once). The node started later reads, at its start, the claims of the one
   * started earlier; the earlier one finds none of the later one's.
   */
  readonly startOrder?: readonly string[];
}

export interface HealthSection {
  readonly command: string;
  readonly intervalMs?: number;
  readonly timeoutMs?: number;
  readonly failures?: number;
}

export class ClusterPair {
  readonly configFile: string;
  readonly config: ClusterConfig;
  /** The port every filer serves portmap, MOUNT and NFS on. */
  readonly filerPort: number;
  readonly #scratch: { path: string; remove(): void };
  readonly #nodes = new Map<string, NodeProcess>();
  /** Processes of earlier starts of a node (killed, crashed or stopped, then started again). */
  readonly #retired: NodeProcess[] = [];
  readonly #faultFiles: ReadonlyMap<string, string>;
  readonly #mailboxLinks: ReadonlyMap<string, string>;

  private constructor(
    scratch: { path: string; remove(): void },
    configFile: string,
    config: ClusterConfig,
    filerPort: number,
    extras: { faultFiles?: ReadonlyMap<string, string>; mailboxLinks?: ReadonlyMap<string, string> } = {},
  ) {
    this.#scratch = scratch;
    this.configFile = configFile;
    this.config = config;
    this.filerPort = filerPort;
    this.#faultFiles = extras.faultFiles ?? new Map();
    this.#mailboxLinks = extras.mailboxLinks ?? new Map();
  }

  /** Initialises a pair in a scratch directory and starts both nodes; resolves once both serve their filers. */
  static async start(prefix: string, options: ClusterPairOptions = {}): Promise<ClusterPair> {
    const scratch = scratchDirectory(prefix);
    try {
      const { configFile, filerPort } = await initTestCluster(path.join(scratch.path, 'pair'), options.filerAddresses);
      const mailboxLinks = configure(configFile, scratch.path, options);
      const faultFiles = new Map<string, string>();
      if (options.faults === true) {
        mkdirSync(path.join(scratch.path, 'faults'), { recursive: true });
        for (const name of NODE_NAMES) faultFiles.set(name, path.join(scratch.path, 'faults', `${name}.json`));
      }
      const pair = new ClusterPair(scratch, configFile, await loadConfig(configFile), filerPort, { faultFiles, mailboxLinks });
      try {
        if (options.startOrder === undefined) {
          for (const name of NODE_NAMES) pair.startNode(name);
        } else {
          for (const name of options.startOrder) {
            pair.startNode(name);
            await pair.waitForStatus(name, `node ${name} serves its own filers`, (status) =>
              status.filers.every((filer) => filer.phase !== 'starting' && (filer.home !== name || filer.phase === 'serving')));
          }
        }
        if (options.settle !== false) await pair.waitUntilSettled();
      } catch (error) {
        await pair.stop();
        throw error;
      }
      return pair;
    } catch (error) {
      scratch.remove();
      throw error;
    }
  }

  /** The pair's scratch directory (the cluster is in its `pair` folder). */
  get directory(): string {
    return this.#scratch.path;
  }

  /** The service address of filer `name` (its first). */
  addressOf(filer: string): string {
    const config = this.config.filers.find((candidate) => candidate.name === filer);
    if (config === undefined) throw new Error(`no filer ${filer}`);
    return config.addresses[0]!;
  }

  /** A libnfs URL of filer `filer`'s export, or of `file` in it. */
  urlOf(filer: string, file?: string): string {
    return nfsUrl(this.addressOf(filer), `/${filer}${file === undefined ? '' : `/${file}`}`, this.filerPort);
  }

  /** Spawns `tandem node` for node `name` (not waiting: see waitForStatus). */
  startNode(name: string): void {
    const running = this.#nodes.get(name);
    if (running !== undefined && !running.exited) throw new Error(`node ${name} is running already`);
    if (running !== undefined) this.#retired.push(running);
    const faultFile = this.#faultFiles.get(name);
    const env = faultFile === undefined ? process.env : { ...process.env, TANDEM_FAULT_FILE: faultFile };
    this.#nodes.set(name, new NodeProcess(name, this.configFile, env));
  }

  /** SIGTERMs node `name` and waits for it to exit; resolves its exit code. */
  async stopNode(name: string): Promise<number | null> {
    const node = this.#node(name);
    node.mayExit = true;
    return node.stop();
  }

  /** Whether node `name`'s process runs (it may be stopped by SIGSTOP). */
  isRunning(name: string): boolean {
    const node = this.#nodes.get(name);
    return node !== undefined && !node.exited;
  }

  /** The process id of node `name`. */
  pid(name: string): number {
    const pid = this.#node(name).child.pid;
    if (pid === undefined) throw new Error(`node ${name} has no process id`);
    return pid;
  }

  /** Lets node `name` exit without failing the waits (a crash point, a self-fence). */
  mayExit(name: string): void {
    this.#node(name).mayExit = true;
  }

  /** kill -9 of node `name`; resolves with the wall-clock time of the kill once it has exited. */
  async killNode(name: string, deadlineMs = NODE_STOP_DEADLINE_MS): Promise<number> {
    const node = this.#node(name);
    node.mayExit = true;
    const atMs = Date.now();
    node.child.kill('SIGKILL');
    await this.waitForExit(name, deadlineMs);
    return atMs;
  }

  /** SIGSTOP of node `name` (resumeNode sends SIGCONT); its exit after that does not fail the waits. */
  pauseNode(name: string): number {
    const node = this.#node(name);
    node.mayExit = true;
    node.paused = true;
    const atMs = Date.now();
    node.child.kill('SIGSTOP');
    return atMs;
  }

  resumeNode(name: string): number {
    const node = this.#node(name);
    node.paused = false;
    const atMs = Date.now();
    node.child.kill('SIGCONT');
    return atMs;
  }

  /** Waits for node `name`'s process to exit; its code or signal. */
  async waitForExit(name: string, deadlineMs = NODE_STOP_DEADLINE_MS): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const node = this.#node(name);
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${name} did not exit within ${deadlineMs} ms\n${this.logs}`)), deadlineMs);
    });
    try {
      return await Promise.race([node.exit, late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Writes node `node`'s fault file (the pair must be started with `faults: true`); null clears
   * it. Written whole and renamed into place, so the node never reads half of it. A crash point
   * lets the node exit without failing the waits.
   */
  setFault(node: string, faults: InjectedFaults | null): void {
    const file = this.#faultFiles.get(node);
    if (file === undefined) throw new Error(`node ${node} has no fault file: start the pair with { faults: true }`);
    if (faults?.crash !== undefined) this.mayExit(node);
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, JSON.stringify(faults ?? {}));
    renameSync(temporary, file);
  }

  /** Points node `node`'s mailbox link at a path that does not exist, atomically (rename over it). */
  breakMailbox(node: string): void {
    this.#pointMailboxLink(node, path.join(this.#scratch.path, 'no-such-mailbox'));
  }

  /** Points node `node`'s mailbox link at the shared mailbox again. */
  restoreMailbox(node: string): void {
    this.#pointMailboxLink(node, this.config.mailbox);
  }

  /** The log (stderr) of every node, for a failure message. */
  get logs(): string {
    return [...this.#nodes.values()].map((node) => `--- node ${node.name} ---\n${node.stderr}`).join('\n');
  }

  /** The log of every process of every node, earlier starts included, oldest first per node. */
  get logHistory(): string {
    return [...this.#retired, ...this.#nodes.values()]
      .map((node) => `--- node ${node.name} (pid ${node.child.pid}, ${node.exited ? `exited ${node.child.exitCode ?? node.child.signalCode}` : 'running'}) ---\n${node.stderr}`)
      .join('\n');
  }

  /** The log (stderr) of node `name`'s current process. */
  logOf(name: string): string {
    return this.#node(name).stderr;
  }

  /** `tandem status --json`, asking `node` first. */
  async status(node?: string): Promise<StatusReport> {
    const result = await this.#cli(['status', ...(node === undefined ? [] : ['--node', node])]);
    if (result.code !== 0) throw new Error(`tandem status exited ${result.code}\nstderr: ${result.stderr}`);
    return JSON.parse(result.stdout) as StatusReport;
  }

  /** Node `node`'s own status, from its admin API only (never its partner's); throws if it does not answer. */
  statusOf(node: string): Promise<StatusReport> {
    return this.#admin(node).status();
  }

  /** Node `node`'s event history, from its admin API only. */
  events(node: string): Promise<readonly EventReport[]> {
    return this.#admin(node).events();
  }

  takeover(filer: string, node?: string, options: { readonly force?: boolean } = {}): Promise<CommandOutcome> {
    return this.#command('takeover', filer, node, options.force === true);
  }

  giveback(filer: string, node?: string): Promise<CommandOutcome> {
    return this.#command('giveback', filer, node, false);
  }

  /**
   * `tandem takeover|giveback FILER --node NODE --json` for a command whose node may die under
   * it: the report when one was printed, else undefined, with the exit code and output.
   */
  async tryCommand(kind: OperationKind, filer: string, node?: string): Promise<{ code: number | null; report: CommandReport | undefined; stdout: string; stderr: string }> {
    const result = await this.#cli([kind, filer, ...(node === undefined ? [] : ['--node', node])]);
    let report: CommandReport | undefined;
    try {
      report = JSON.parse(result.stdout) as CommandReport;
    } catch {
      report = undefined;
    }
    return { code: result.code, report, stdout: result.stdout, stderr: result.stderr };
  }

  /** The claims and state record of filer `filer` in the shared mailbox, read directly. */
  readMailbox(filer: string): MailboxReading {
    const folder = path.join(this.config.mailbox, filer);
    let epoch: bigint | undefined;
    for (const name of readdirSync(folder)) {
      const found = /^epoch-(\d+)\.json$/.exec(name);
      if (found !== null && (epoch === undefined || BigInt(found[1]!) > epoch)) epoch = BigInt(found[1]!);
    }
    let owner: string | null = null;
    if (epoch !== undefined) {
      const claim = JSON.parse(readFileSync(path.join(folder, `epoch-${epoch}.json`), 'utf8')) as { owner?: unknown };
      owner = typeof claim.owner === 'string' ? claim.owner : null;
    }
    let record: { state?: unknown; epoch?: unknown; owner?: unknown } | undefined;
    try {
      record = JSON.parse(readFileSync(path.join(folder, 'state.json'), 'utf8')) as typeof record;
    } catch {
      record = undefined;
    }
    const text = (value: unknown) => (value === undefined || value === null ? null : String(value));
    return { epoch: epoch === undefined ? null : String(epoch), owner, state: text(record?.state), stateEpoch: text(record?.epoch), stateOwner: text(record?.owner) };
  }

  /**
   * Polls node `node`'s admin API until `predicate` holds of its status; rejects past the
   * deadline with the last status seen, or as soon as a node process has exited (other than one
   * the test meant to die: killNode, pauseNode, mayExit, a crash point).
   */
  async waitForStatus(node: string, what: string, predicate: (status: StatusReport) => boolean, deadlineMs = NODE_START_DEADLINE_MS): Promise<StatusReport> {
    if (this.config.nodeNamed(node) === undefined) throw new Error(`no node ${node}`);
    const client = this.#admin(node);
    return this.waitFor(what, async () => {
      const status = await client.status();
      return predicate(status) ? { value: status } : { last: status };
    }, deadlineMs);
  }

  /**
   * Polls `attempt` (every 50 ms) until it resolves with `{ value }` (not `{ last }`: what it
   * saw instead); an attempt that throws counts as not yet. Rejects past the deadline with the
   * last thing seen, or as soon as a node process has exited unexpectedly.
   */
  async waitFor<T>(what: string, attempt: () => Promise<{ value: T } | { last: unknown }>, deadlineMs = NODE_START_DEADLINE_MS): Promise<T> {
    const deadline = Date.now() + deadlineMs;
    let last: unknown = 'no answer yet';
    for (;;) {
      const exited = [...this.#nodes.values()].find((candidate) => candidate.exited && !candidate.mayExit);
      if (exited !== undefined) throw new Error(`waiting for ${what}: node ${exited.name} exited (${exited.child.exitCode ?? exited.child.signalCode})\n${this.logs}`);
      try {
        const result = await attempt();
        if ('value' in result) return result.value;
        last = result.last;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: not within ${deadlineMs} ms; last: ${JSON.stringify(last)}\n${this.logs}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  /** Polls node `node`'s events until one satisfies `predicate`; resolves with it. */
  waitForEvent(node: string, what: string, predicate: (event: EventReport) => boolean, deadlineMs = NODE_START_DEADLINE_MS): Promise<EventReport> {
    return this.waitFor(what, async () => {
      const events = await this.events(node);
      const found = events.find(predicate);
      return found === undefined ? { last: events.slice(-5) } : { value: found };
    }, deadlineMs);
  }

  /** Both nodes up, both filers served by their home nodes, as each node sees it. */
  async waitUntilSettled(): Promise<void> {
    for (const name of NODE_NAMES) await this.waitForStatus(name, `node ${name}: both filers at home and served`, settledAtHome);
  }

  /** Stops both nodes (faults cleared, links mended, paused ones resumed; SIGTERM, with a deadline) and removes the scratch directory. */
  async stop(): Promise<void> {
    try {
      for (const node of this.#mailboxLinks.keys()) this.restoreMailbox(node);
      for (const node of this.#faultFiles.keys()) this.setFault(node, null);
      const results = await Promise.allSettled([...this.#nodes.values()].map((node) => node.stop()));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } finally {
      this.#scratch.remove();
    }
  }

  #node(name: string): NodeProcess {
    const node = this.#nodes.get(name);
    if (node === undefined) throw new Error(`node ${name} was never started`);
    return node;
  }

  #admin(node: string): AdminClient {
    const config = this.config.nodeNamed(node);
    if (config === undefined) throw new Error(`no node ${node}`);
    return new AdminClient({ endpoints: [config.admin], token: adminToken(this.config.secret), timeoutMs: ADMIN_POLL_TIMEOUT_MS });
  }

  #pointMailboxLink(node: string, target: string): void {
    const link = this.#mailboxLinks.get(node);
    if (link === undefined) throw new Error(`node ${node} has no mailbox link: start the pair with { mailboxLinks: ['${node}'] }`);
    const temporary = `${link}.${process.pid}.tmp`;
    rmSync(temporary, { force: true });
    symlinkSync(target, temporary);
    renameSync(temporary, link);
  }

  async #command(kind: OperationKind, filer: string, node: string | undefined, force: boolean): Promise<CommandOutcome> {
    const result = await this.#cli([kind, filer, ...(node === undefined ? [] : ['--node', node]), ...(force ? ['--force'] : [])]);
    let report: CommandReport;
    try {
      report = JSON.parse(result.stdout) as CommandReport;
    } catch {
      throw new Error(`tandem ${kind} ${filer} printed no JSON report (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return { code: result.code, report, stderr: result.stderr };
  }

  #cli(args: readonly string[]): Promise<RunResult> {
    return run(process.execPath, [TANDEM_MAIN, ...args, '--config', this.configFile, '--json'], { timeoutMs: CLI_DEADLINE_MS });
  }
}

/**
 * Post-processes the configuration initCluster wrote: timing keys, autoGiveback, health, and a
 * mailbox link per node named in mailboxLinks. Returns node -> link path.
 */
function configure(configFile: string, scratch: string, options: ClusterPairOptions): Map<string, string> {
  const links = new Map<string, string>();
  const wanted = options.timing !== undefined || options.autoGiveback !== undefined || options.health !== undefined || (options.mailboxLinks ?? []).length > 0;
  if (!wanted) return links;
  const document = parseDocument(readFileSync(configFile, 'utf8'));
  for (const [key, value] of Object.entries(options.timing ?? {})) document.setIn(['timing', key], value);
  if (options.autoGiveback !== undefined) document.set('autoGiveback', document.createNode(options.autoGiveback));
  if (options.health !== undefined) {
    const health = typeof options.health === 'function' ? options.health(scratch) : options.health;
    document.set('health', document.createNode(health));
  }
  const directory = path.dirname(configFile);
  const mailbox = path.join(directory, 'mailbox');
  for (const node of options.mailboxLinks ?? []) {
    const index = NODE_NAMES.indexOf(node);
    if (index < 0) throw new Error(`mailboxLinks: no node ${node}`);
    const link = path.join(directory, `mailbox-of-${node}`);
    symlinkSync(mailbox, link);
    document.setIn(['nodes', index, 'mailbox'], link);
    links.set(node, link);
  }
  writeFileSync(configFile, document.toString());
  return links;
}
