// A filer pair with the `linux` address backend in a network-namespace test bed (netns-bed.ts):
// node a and node b each in a namespace of its own on a bridged LAN, the filers' addresses
// moving between their interfaces. `tandem init` makes the cluster (volumes, secret); its
// configuration is then pointed at the bed's addresses. Each node's admin API listens on the
// loopback of its own namespace, so operator commands run there (`ip netns exec`), through the
// real CLI with --json, as on a real host. Waits poll status under a deadline, never a sleep.

import { type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseDocument } from 'yaml';
import type { CommandReport, StatusReport } from '../../src/admin/cluster-service.js';
import { initCluster } from '../../src/cluster/init.js';
import { SERVER_NODE_OPTIONS } from '../../src/platform/server-heap.js';
import { TANDEM_MAIN, type RunResult } from '../support/processes.js';
import { withDeadline } from '../support/rpc-client.js';
import { scratchDirectory } from '../support/scratch.js';
import { nfsUrl } from '../../src/server/nfs-url.js';
import { filerIn, NODE_START_DEADLINE_MS, NODE_STOP_DEADLINE_MS, CLI_DEADLINE_MS } from '../support/cluster-processes.js';
import type { NetnsBed, NetnsHost } from './netns-bed.js';

/** The bed's hosts: the two nodes, the client, and a stranger that may claim an address. */
export const BED_HOSTS: readonly NetnsHost[] = [
  { name: 'a', ipv4: '198.18.0.1/24', ipv6: '2001:2::1/64' },
  { name: 'b', ipv4: '198.18.0.2/24', ipv6: '2001:2::2/64' },
  { name: 'c', ipv4: '198.18.0.100/24', ipv6: '2001:2::100/64' },
  { name: 'x', ipv4: '198.18.0.50/24', ipv6: '2001:2::50/64' },
];
/** Filer a's addresses (IPv4 and IPv6) and filer b's. */
export const FILER_A_ADDRESSES = ['198.18.0.11/24', '2001:2::11/64'] as const;
export const FILER_B_ADDRESSES = ['198.18.0.12/24'] as const;
/** Inside the bed nothing else listens, so fixed ports serve; none is a well-known one. */
export const FILER_PORT = 20490;
const INTERCONNECT_PORTS = [7001, 7002] as const;
const ADMIN_PORTS = [7101, 7102] as const;
const NODES = ['a', 'b'] as const;
const BED_CLIENTS = '198.18.0.0/15(rw,no_root_squash) 2001:2::/48(rw,no_root_squash)';
const POLL_INTERVAL_MS = 100;

export interface NetnsPairOptions {
  /** Per node, the interface named in the configuration (default eth0). */
  readonly interfaces?: Readonly<Record<string, string>>;
  /** Keys merged into `timing`. */
  readonly timing?: Readonly<Record<string, number>>;
}

export class NetnsPair {
  readonly bed: NetnsBed;
  readonly configFile: string;
  readonly #scratch: { path: string; remove(): void };
  readonly #nodes = new Map<string, { child: ChildProcess; stderr: string[]; exit: Promise<number | null> }>();

  private constructor(bed: NetnsBed, scratch: { path: string; remove(): void }, configFile: string) {
    this.bed = bed;
    this.#scratch = scratch;
    this.configFile = configFile;
  }

  /** Initialises the cluster and writes its linux-backend configuration; starts no node. */
  static async create(bed: NetnsBed, prefix: string, options: NetnsPairOptions = {}): Promise<NetnsPair> {
    const scratch = scratchDirectory(prefix);
    try {
      const { configFile } = await initCluster(path.join(scratch.path, 'pair'), { nodes: NODES });
      const document = parseDocument(readFileSync(configFile, 'utf8'));
      document.set('addressBackend', 'linux');
      NODES.forEach((name, index) => {
        const host = BED_HOSTS.find((candidate) => candidate.name === name)!.ipv4.split('/')[0];
        document.setIn(['nodes', index, 'interconnect'], `${host}:${INTERCONNECT_PORTS[index]}`);
        document.setIn(['nodes', index, 'admin'], `127.0.0.1:${ADMIN_PORTS[index]}`);
        document.setIn(['nodes', index, 'interface'], options.interfaces?.[name] ?? 'eth0');
      });
      document.setIn(['filers', 0, 'addresses'], [...FILER_A_ADDRESSES]);
      document.setIn(['filers', 1, 'addresses'], [...FILER_B_ADDRESSES]);
      // The probe runs as root on the client host and writes as root.
      for (const index of [0, 1]) document.setIn(['filers', index, 'volumes', 0, 'clients'], BED_CLIENTS);
      document.setIn(['filers', 0, 'port'], FILER_PORT);
      document.setIn(['filers', 1, 'port'], FILER_PORT);
      for (const [key, value] of Object.entries(options.timing ?? {})) document.setIn(['timing', key], value);
      writeFileSync(configFile, document.toString());
      return new NetnsPair(bed, scratch, configFile);
    } catch (error) {
      scratch.remove();
      throw error;
    }
  }

  /** Spawns `tandem node NAME` in its namespace, optionally behind a command prefix (setpriv ...). */
  startNode(name: string, options: { prefix?: readonly string[]; env?: NodeJS.ProcessEnv } = {}): void {
    const running = this.#nodes.get(name);
    if (running !== undefined && running.child.exitCode === null && running.child.signalCode === null) throw new Error(`node ${name} runs already`);
    const [command, ...args] = [...(options.prefix ?? []), process.execPath, ...SERVER_NODE_OPTIONS, TANDEM_MAIN, 'node', '--config', this.configFile, '--node', name];
    const child = this.bed.spawn(name, command!, args, { stdio: ['ignore', 'ignore', 'pipe'], env: options.env ?? process.env });
    const stderr: string[] = [];
    child.stderr!.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    this.#nodes.set(name, { child, stderr, exit });
  }

  /** Node `name`'s standard error so far. */
  stderr(name: string): string {
    return this.#nodes.get(name)?.stderr.join('') ?? '';
  }

  /** Resolves node `name`'s exit code once it exits by itself, within the deadline. */
  async exitOf(name: string, deadlineMs = NODE_START_DEADLINE_MS): Promise<number | null> {
    const node = this.#node(name);
    return withDeadline(node.exit, deadlineMs, `node ${name} exiting by itself (stderr: ${this.stderr(name)})`);
  }

  /** kill -9 of node `name`'s process; resolves once it is gone. */
  async kill(name: string): Promise<void> {
    const node = this.#node(name);
    node.child.kill('SIGKILL');
    await withDeadline(node.exit, NODE_STOP_DEADLINE_MS, `node ${name} exiting after SIGKILL`);
  }

  /** `tandem ARGS --json`, run in node `from`'s namespace (its admin API is on that loopback). */
  cli(from: string, args: readonly string[]): Promise<RunResult> {
    return this.bed.exec(from, process.execPath, [TANDEM_MAIN, ...args, '--config', this.configFile, '--json'], { timeoutMs: CLI_DEADLINE_MS });
  }

  async status(node: string): Promise<StatusReport> {
    const result = await this.cli(node, ['status', '--node', node]);
    if (result.code !== 0) throw new Error(`tandem status --node ${node} exited ${result.code}: ${result.stderr}`);
    return JSON.parse(result.stdout) as StatusReport;
  }

  /** `tandem takeover|giveback FILER`, asked of node `node`. */
  async command(kind: 'takeover' | 'giveback', filer: string, node: string): Promise<{ code: number | null; report: CommandReport; stderr: string }> {
    const result = await this.cli(node, [kind, filer, '--node', node]);
    return { code: result.code, report: JSON.parse(result.stdout) as CommandReport, stderr: result.stderr };
  }

  /** Polls node `node`'s status until `predicate` holds; fails past the deadline with the last status. */
  async waitForStatus(node: string, what: string, predicate: (status: StatusReport) => boolean, deadlineMs = NODE_START_DEADLINE_MS): Promise<StatusReport> {
    // A node that does not answer yet is polled again, like one whose status does not hold yet.
    const read = () => this.status(node).catch((error: unknown) => (error instanceof Error ? error.message : String(error)));
    const last = await pollUntil(read, (status) => typeof status !== 'string' && predicate(status), deadlineMs, (status) =>
      `${what}: not within ${deadlineMs} ms; last: ${JSON.stringify(status)}\nstderr of ${node}: ${this.stderr(node)}`);
    return last as StatusReport;
  }

  /** Waits until node `node` says filer `filer` is served by `by`. */
  waitServed(node: string, filer: string, by: string, deadlineMs?: number): Promise<StatusReport> {
    return this.waitForStatus(node, `${node} sees ${filer} served by ${by}`, (status) => {
      const report = filerIn(status, filer);
      return report.servedBy === by && (by !== node || report.phase === 'serving');
    }, deadlineMs);
  }

  /** The addresses on host `host`'s eth0. */
  async addressesOn(host: string): Promise<string[]> {
    const result = await this.bed.execOk(host, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
    const links = JSON.parse(result.stdout) as { addr_info?: { local?: string }[] }[];
    return links.flatMap((link) => (link.addr_info ?? []).flatMap((info) => (info.local === undefined ? [] : [info.local])));
  }

  /** Polls until `predicate` holds of host `host`'s addresses. */
  async waitForAddresses(host: string, what: string, predicate: (addresses: readonly string[]) => boolean, deadlineMs = 5_000): Promise<void> {
    await pollUntil(() => this.addressesOn(host), predicate, deadlineMs, (addresses) => `${what}: not within ${deadlineMs} ms; ${host} has ${addresses.join(', ')}`);
  }

  /** Polls until host `host`'s neighbour table maps `address` to `mac`. */
  async waitForNeighbour(host: string, address: string, mac: string, deadlineMs = 5_000): Promise<void> {
    const entryOf = async () => (await this.bed.neighbours(host)).find((neighbour) => neighbour.address === address);
    await pollUntil(entryOf, (entry) => entry?.mac === mac, deadlineMs, (entry) =>
      `${host}'s neighbour table maps ${address} to ${entry?.mac ?? 'nothing'} (${entry?.state.join(' ') ?? 'no entry'}), not ${mac}, after ${deadlineMs} ms`);
  }

  /** The libnfs URL of filer `filer`'s export at `address` (its first address by default). */
  url(filer: string, address?: string): string {
    const chosen = address ?? (filer === 'a' ? FILER_A_ADDRESSES[0] : FILER_B_ADDRESSES[0]).split('/')[0]!;
    return nfsUrl(chosen, `/${filer}`, FILER_PORT);
  }

  /** The pair's scratch directory. */
  get directory(): string {
    return this.#scratch.path;
  }

  /** Stops every running node (SIGTERM, SIGKILL past the deadline) and removes the scratch directory. */
  async stop(): Promise<void> {
    for (const [name, node] of this.#nodes) {
      if (node.child.exitCode !== null || node.child.signalCode !== null) continue;
      node.child.kill('SIGTERM');
      try {
        await withDeadline(node.exit, NODE_STOP_DEADLINE_MS, `node ${name} exiting after SIGTERM`);
      } catch {
        node.child.kill('SIGKILL');
      }
    }
    this.#scratch.remove();
  }

  #node(name: string) {
    const node = this.#nodes.get(name);
    if (node === undefined) throw new Error(`node ${name} was never started`);
    return node;
  }
}


/** Reads until `done` holds of the reading; past the deadline, fails with `failure` of the last one. */
async function pollUntil<T>(read: () => Promise<T>, done: (value: T) => boolean, deadlineMs: number, failure: (last: T) => string): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > until) throw new Error(failure(value));
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}
