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
import type { CommandReport, EventReport, FilerReport, OperationKind, StatusReport } from '../../src/admin/cluster-service.js';
import { loadConfig, type ClusterConfig } from '../../src/cluster/config.js';
import { initCluster } from '../../src/cluster/init.js';
import { summary } from './nfsbench.js';
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

/** Every filer at home, state normal, served by its home node, and every node up, as `status` says. */
export function settledAtHome(status: StatusReport): boolean {
  return (
    status.nodes.every((node) => node.up) &&
    status.filers.every((filer) => filer.servedBy === filer.home && filer.state === 'normal' && (filer.home !== status.node || filer.phase === 'serving'))
  );
}

class NodeProcess {
  readonly name: string;
  readonly child: ChildProcess;
  readonly #stderr: string[] = [];

  constructor(name: string, configFile: string) {
    this.name = name;
    this.child = spawn(process.execPath, [TANDEM_MAIN, 'node', '--config', configFile, '--node', name], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => this.#stderr.push(chunk.toString()));
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
      this.child.kill('SIGTERM');
    });
  }
}

export class ClusterPair {
  readonly configFile: string;
  readonly config: ClusterConfig;
  /** The port every filer serves portmap, MOUNT and NFS on. */
  readonly filerPort: number;
  readonly #scratch: { path: string; remove(): void };
  readonly #nodes = new Map<string, NodeProcess>();

  private constructor(scratch: { path: string; remove(): void }, configFile: string, config: ClusterConfig, filerPort: number) {
    this.#scratch = scratch;
    this.configFile = configFile;
    this.config = config;
    this.filerPort = filerPort;
  }

  /** Initialises a pair in a scratch directory and starts both nodes; resolves once both serve their filers. */
  static async start(prefix: string): Promise<ClusterPair> {
    const scratch = scratchDirectory(prefix);
    try {
      const endpoints = {
        interconnectPorts: [await freePort('127.0.0.1'), await freePort('127.0.0.1')] as const,
        adminPorts: [await freePort('127.0.0.1'), await freePort('127.0.0.1')] as const,
        filerAddresses: TEST_FILER_ADDRESSES,
        filerPort: await portFreeOnAll(TEST_FILER_ADDRESSES),
      };
      const { configFile } = await initCluster(path.join(scratch.path, 'pair'), { nodes: NODE_NAMES, endpoints });
      const pair = new ClusterPair(scratch, configFile, await loadConfig(configFile), endpoints.filerPort);
      for (const name of NODE_NAMES) pair.startNode(name);
      try {
        await pair.waitUntilSettled();
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

  /** The service address of filer `name` (its first). */
  addressOf(filer: string): string {
    const config = this.config.filers.find((candidate) => candidate.name === filer);
    if (config === undefined) throw new Error(`no filer ${filer}`);
    return config.addresses[0]!;
  }

  /** Spawns `tandem node` for node `name` (not waiting: see waitForStatus). */
  startNode(name: string): void {
    const running = this.#nodes.get(name);
    if (running !== undefined && !running.exited) throw new Error(`node ${name} is running already`);
    this.#nodes.set(name, new NodeProcess(name, this.configFile));
  }

  /** SIGTERMs node `name` and waits for it to exit; resolves its exit code. */
  async stopNode(name: string): Promise<number | null> {
    const node = this.#nodes.get(name);
    if (node === undefined) throw new Error(`node ${name} was never started`);
    return node.stop();
  }

  /** The log (stderr) of every node, for a failure message. */
  get logs(): string {
    return [...this.#nodes.values()].map((node) => `--- node ${node.name} ---\n${node.stderr}`).join('\n');
  }

  /** `tandem status --json`, asking `node` first. */
  async status(node?: string): Promise<StatusReport> {
    const result = await this.#cli(['status', ...(node === undefined ? [] : ['--node', node])]);
    if (result.code !== 0) throw new Error(`tandem status exited ${result.code}\nstderr: ${result.stderr}`);
    return JSON.parse(result.stdout) as StatusReport;
  }

  takeover(filer: string, node?: string): Promise<CommandOutcome> {
    return this.#command('takeover', filer, node);
  }

  giveback(filer: string, node?: string): Promise<CommandOutcome> {
    return this.#command('giveback', filer, node);
  }

  /**
   * Polls node `node`'s admin API until `predicate` holds of its status; rejects past the
   * deadline with the last status seen, or as soon as a node process has exited.
   */
  async waitForStatus(node: string, what: string, predicate: (status: StatusReport) => boolean, deadlineMs = NODE_START_DEADLINE_MS): Promise<StatusReport> {
    const config = this.config.nodeNamed(node);
    if (config === undefined) throw new Error(`no node ${node}`);
    const client = new AdminClient({ endpoints: [config.admin], token: adminToken(this.config.secret), timeoutMs: ADMIN_POLL_TIMEOUT_MS });
    const deadline = Date.now() + deadlineMs;
    let last: unknown = 'no answer yet';
    for (;;) {
      const exited = [...this.#nodes.values()].find((candidate) => candidate.exited);
      if (exited !== undefined) throw new Error(`waiting for ${what}: node ${exited.name} exited (${exited.child.exitCode ?? exited.child.signalCode})\n${this.logs}`);
      try {
        const status = await client.status();
        if (predicate(status)) return status;
        last = status;
      } catch (error) {
        last = error instanceof Error ? error.message : error;
      }
      if (Date.now() > deadline) throw new Error(`waiting for ${what}: not within ${deadlineMs} ms; last: ${JSON.stringify(last)}\n${this.logs}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  }

  /** Both nodes up, both filers served by their home nodes, as each node sees it. */
  async waitUntilSettled(): Promise<void> {
    for (const name of NODE_NAMES) await this.waitForStatus(name, `node ${name}: both filers at home and served`, settledAtHome);
  }

  /** Stops both nodes (SIGTERM, with a deadline) and removes the scratch directory. */
  async stop(): Promise<void> {
    try {
      const results = await Promise.allSettled([...this.#nodes.values()].map((node) => node.stop()));
      const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    } finally {
      this.#scratch.remove();
    }
  }

  async #command(kind: OperationKind, filer: string, node: string | undefined): Promise<CommandOutcome> {
    const result = await this.#cli([kind, filer, ...(node === undefined ? [] : ['--node', node])]);
    let report: CommandReport;
    try {
      report = JSON.parse(result.stdout) as CommandReport;
    } catch {
      throw new Error(`tandem ${kind} ${filer} printed no JSON report (exit ${result.code})\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return { code: result.code, report, stderr: result.stderr };
  }

  #cli(args: readonly string[]) {
    return run(process.execPath, [TANDEM_MAIN, ...args, '--config', this.configFile, '--json'], { timeoutMs: CLI_DEADLINE_MS });
  }
}
