// A test bed of Linux network namespaces: a simulated LAN for tests and benchmarks that run
// Tandem nodes and NFS clients as separate hosts. Test support only; nothing in src/ uses it.
//
// Layout: one namespace `<prefix>-lan` holds a bridge `br0`; each host gets a namespace
// `<prefix>-<host>` with `lo` up and `eth0`, one end of a veth pair whose other end
// (`v-<host>`) is a port of br0. Every address comes from the benchmarking ranges
// 198.18.0.0/15 (RFC 2544) and 2001:2::/48 (RFC 5180) and is added only inside namespaces
// this bed created, with `ip -n`, so nothing is ever configured in, or routed out of, the
// namespace this process runs in.
//
// Namespace names are `tandem-<pid>-<random>-<host>`: the pid lets sweepStaleBeds() remove
// the beds of a crashed earlier run, the random part keeps two beds of one process apart.

import { execFileSync, spawn as spawnProcess, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { BlockList, isIPv6 } from 'node:net';
import { run, type RunResult } from '../support/processes.js';

export interface NetnsHost {
  /** Lower-case letters and digits, starting with a letter; `lan` is taken by the bridge. */
  readonly name: string;
  /** CIDR inside 198.18.0.0/15 with a prefix of at least 15, e.g. '198.18.0.1/24'. */
  readonly ipv4: string;
  /** CIDR inside 2001:2::/48 with a prefix of at least 48, e.g. '2001:2::1/64'. */
  readonly ipv6?: string;
}

export interface NetnsBedOptions {
  readonly hosts: readonly NetnsHost[];
}

export interface Neighbour {
  readonly address: string;
  /** Absent while the entry is INCOMPLETE or FAILED. */
  readonly mac?: string;
  /** NUD states as `ip` prints them, e.g. ['REACHABLE'] or ['STALE']. */
  readonly state: readonly string[];
}

export type NetnsSupport = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** Deadline for one `ip` invocation made by the bed itself. */
const IP_COMMAND_TIMEOUT_MS = 10_000;
/** How long destroy() waits for SIGKILLed children to be reaped. */
const CHILD_EXIT_DEADLINE_MS = 5_000;
/** The host's interface; its bridge-side peer is `v-<host>`, so host names are at most 10
 * characters to keep that within IFNAMSIZ - 1 = 15. */
const HOST_INTERFACE = 'eth0';
const BRIDGE = 'br0';
const LAN = 'lan';
const HOST_NAME_PATTERN = /^[a-z][a-z0-9]{0,9}$/;
const NAMESPACE_PATTERN = /^tandem-(\d+)-[0-9a-f]+-[a-z0-9]+$/;
// Only the first two octets are checked here, literally, so that 198.18.0.0/15 is guaranteed;
// `ip` rejects a malformed rest (e.g. an octet of 999) as a failed create step.
const IPV4_CIDR_PATTERN = /^198\.1[89]\.\d{1,3}\.\d{1,3}\/(\d{1,2})$/;
const IPV4_PREFIX_MIN = 15;
const IPV6_PREFIX_MIN = 48;
const IPV6_BENCHMARKING = new BlockList();
IPV6_BENCHMARKING.addSubnet('2001:2::', IPV6_PREFIX_MIN, 'ipv6');

/** Whether this process can build a bed; the reason names exactly what is missing. */
export async function netnsSupport(): Promise<NetnsSupport> {
  if (process.platform !== 'linux') return { ok: false, reason: `network namespaces need Linux, this is ${process.platform}` };
  const uid = process.getuid?.();
  if (uid !== 0) return { ok: false, reason: `network namespaces need root, this process runs as uid ${uid ?? 'unknown'}` };
  const probe = `${newPrefix()}-probe`;
  try {
    await ipOk(['netns', 'add', probe]);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: '`ip` (iproute2) is not on PATH' };
    return { ok: false, reason: `\`ip netns add ${probe}\` failed: ${(error as Error).message}` };
  }
  try {
    await ipOk(['netns', 'del', probe]);
  } catch (error) {
    return { ok: false, reason: `\`ip netns del ${probe}\` failed: ${(error as Error).message}` };
  }
  return { ok: true };
}

/** Deletes namespaces `tandem-<pid>-...` whose pid is no longer alive, after killing any
 * process left inside them. Resolves the names it deleted. */
export async function sweepStaleBeds(): Promise<string[]> {
  const stale = (await listNamespaces()).filter((name) => {
    const pid = NAMESPACE_PATTERN.exec(name)?.[1];
    return pid !== undefined && !isAlive(Number(pid));
  });
  const deleted: string[] = [];
  for (const name of stale) {
    // A concurrent sweep in another test process may have deleted it first; whatever is
    // really left is retried by the next sweep, so this never fails a create.
    await removeNamespace(name).then(() => deleted.push(name), () => {});
  }
  return deleted;
}

/** Names of all namespaces `ip netns` knows, in any bed or none. */
export async function listNamespaces(): Promise<string[]> {
  const { stdout } = await ipOk(['-j', 'netns', 'list']);
  if (stdout.trim() === '') return [];
  return (JSON.parse(stdout) as { name: string }[]).map((entry) => entry.name);
}

export class NetnsBed {
  /** `tandem-<pid>-<random>`; every namespace of this bed starts with it. */
  readonly namespacePrefix: string;
  readonly hosts: readonly string[];
  readonly #created: string[] = [];
  readonly #children = new Set<ChildProcess>();
  readonly #onExit = () => this.#destroySync();
  #destroying: Promise<void> | undefined;

  private constructor(namespacePrefix: string, hosts: readonly string[]) {
    this.namespacePrefix = namespacePrefix;
    this.hosts = hosts;
  }

  /** Builds the LAN and one namespace per host. On any failure, removes what it built and
   * rethrows with the failed step in the message. */
  static async create(options: NetnsBedOptions): Promise<NetnsBed> {
    validateHosts(options.hosts);
    await sweepStaleBeds();
    const bed = new NetnsBed(newPrefix(), options.hosts.map((host) => host.name));
    process.on('exit', bed.#onExit);
    try {
      await bed.#buildLan();
      for (const host of options.hosts) await bed.#buildHost(host);
    } catch (error) {
      await bed.destroy().catch(() => {});
      throw error;
    }
    return bed;
  }

  namespace(host: string): string {
    if (!this.hosts.includes(host)) throw new Error(`netns bed ${this.namespacePrefix} has no host '${host}'`);
    return `${this.namespacePrefix}-${host}`;
  }

  /** Runs `command` inside host's namespace; rejects (after killing it) past timeoutMs. */
  async exec(host: string, command: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    this.#assertLive();
    return await run('ip', ['netns', 'exec', this.namespace(host), command, ...args], options);
  }

  /** As exec(), but rejects with stderr unless the command exits 0. */
  async execOk(host: string, command: string, args: readonly string[], options: { timeoutMs?: number } = {}): Promise<RunResult> {
    const result = await this.exec(host, command, args, options);
    if (result.code !== 0) {
      throw new Error(`${command} ${args.join(' ')} in ${host} exited ${result.code ?? result.signal}\nstderr: ${result.stderr}`);
    }
    return result;
  }

  /** Starts `command` inside host's namespace. `ip netns exec` execs it, so the child's pid
   * is the command's. destroy() SIGKILLs every child still running. */
  spawn(host: string, command: string, args: readonly string[], options: SpawnOptions = {}): ChildProcess {
    this.#assertLive();
    const child = spawnProcess('ip', ['netns', 'exec', this.namespace(host), command, ...args], options);
    this.#children.add(child);
    child.once('exit', () => this.#children.delete(child));
    return child;
  }

  /** The MAC address of host's eth0, lower case. */
  async mac(host: string): Promise<string> {
    const { stdout } = await ipOk(['-n', this.namespace(host), '-j', 'link', 'show', 'dev', HOST_INTERFACE]);
    const [link] = JSON.parse(stdout) as { address: string }[];
    if (link === undefined) throw new Error(`no ${HOST_INTERFACE} in ${this.namespace(host)}`);
    return link.address.toLowerCase();
  }

  /** Host's neighbour table (ARP and NDP) on eth0. */
  async neighbours(host: string): Promise<Neighbour[]> {
    const { stdout } = await ipOk(['-n', this.namespace(host), '-j', 'neigh', 'show', 'dev', HOST_INTERFACE]);
    if (stdout.trim() === '') return [];
    const entries = JSON.parse(stdout) as { dst: string; lladdr?: string; state?: string[] }[];
    return entries.map((entry) => ({
      address: entry.dst,
      ...(entry.lladdr === undefined ? {} : { mac: entry.lladdr.toLowerCase() }),
      state: entry.state ?? [],
    }));
  }

  /** Kills the bed's children and deletes its namespaces (the veths go with them).
   * Idempotent: later calls return the first call's promise. */
  destroy(): Promise<void> {
    this.#destroying ??= this.#destroy();
    return this.#destroying;
  }

  async #destroy(): Promise<void> {
    const exits = [...this.#children].map((child) => exited(child, CHILD_EXIT_DEADLINE_MS));
    for (const child of this.#children) child.kill('SIGKILL');
    await Promise.all(exits);
    const failures: unknown[] = [];
    // Hosts first, the LAN last: the reverse of creation.
    for (const name of [...this.#created].reverse()) {
      await removeNamespace(name).catch((error: unknown) => failures.push(error));
    }
    this.#created.length = 0;
    process.off('exit', this.#onExit);
    if (failures.length > 0) throw new AggregateError(failures, `netns bed ${this.namespacePrefix}: destroy left namespaces behind`);
  }

  /** The 'exit' fallback for a test that forgot destroy(): no event loop, so all synchronous. */
  #destroySync(): void {
    for (const child of this.#children) child.kill('SIGKILL');
    for (const name of [...this.#created].reverse()) {
      try {
        killNamespacePidsSync(name);
        execFileSync('ip', ['netns', 'del', name], { stdio: 'ignore', timeout: IP_COMMAND_TIMEOUT_MS });
      } catch {
        // Exiting anyway; sweepStaleBeds() in the next run removes what is left.
      }
    }
    this.#created.length = 0;
  }

  async #buildLan(): Promise<void> {
    const lan = `${this.namespacePrefix}-${LAN}`;
    await this.#step(`add namespace ${lan}`, ['netns', 'add', lan]);
    this.#created.push(lan);
    // No multicast snooping: with no MLD querier on this LAN, snooping could drop the
    // solicited-node multicast that IPv6 neighbour discovery needs.
    await this.#step(`add bridge ${BRIDGE} in ${lan}`, ['-n', lan, 'link', 'add', BRIDGE, 'type', 'bridge', 'mcast_snooping', '0']);
    await this.#step(`set ${BRIDGE} up in ${lan}`, ['-n', lan, 'link', 'set', BRIDGE, 'up']);
  }

  async #buildHost(host: NetnsHost): Promise<void> {
    const lan = `${this.namespacePrefix}-${LAN}`;
    const ns = this.namespace(host.name);
    const peer = `v-${host.name}`;
    await this.#step(`add namespace ${ns}`, ['netns', 'add', ns]);
    this.#created.push(ns);
    await this.#step(`set lo up in ${ns}`, ['-n', ns, 'link', 'set', 'lo', 'up']);
    // Created inside the host namespace with its peer placed straight into the LAN
    // namespace, so no interface ever appears in this process's namespace.
    await this.#step(`add veth ${HOST_INTERFACE}/${peer} for ${host.name}`, ['-n', ns, 'link', 'add', HOST_INTERFACE, 'type', 'veth', 'peer', 'name', peer, 'netns', lan]);
    await this.#step(`attach ${peer} to ${BRIDGE}`, ['-n', lan, 'link', 'set', peer, 'master', BRIDGE, 'up']);
    await this.#step(`add address ${host.ipv4} to ${HOST_INTERFACE} of ${host.name}`, ['-n', ns, 'addr', 'add', host.ipv4, 'dev', HOST_INTERFACE]);
    if (host.ipv6 !== undefined) {
      // nodad: usable at once instead of tentative for about a second (RFC 4862 5.4).
      await this.#step(`add address ${host.ipv6} to ${HOST_INTERFACE} of ${host.name}`, ['-n', ns, 'addr', 'add', host.ipv6, 'dev', HOST_INTERFACE, 'nodad']);
    }
    await this.#step(`set ${HOST_INTERFACE} up in ${ns}`, ['-n', ns, 'link', 'set', HOST_INTERFACE, 'up']);
  }

  async #step(step: string, args: readonly string[]): Promise<void> {
    try {
      await ipOk(args);
    } catch (error) {
      throw new Error(`netns bed ${this.namespacePrefix}: step "${step}" failed: ${(error as Error).message}`, { cause: error });
    }
  }

  #assertLive(): void {
    if (this.#destroying !== undefined) throw new Error(`netns bed ${this.namespacePrefix} is destroyed`);
  }
}

function validateHosts(hosts: readonly NetnsHost[]): void {
  const seen = new Set<string>();
  for (const host of hosts) {
    if (!HOST_NAME_PATTERN.test(host.name) || host.name === LAN) {
      throw new Error(`netns bed: host name '${host.name}' must match ${HOST_NAME_PATTERN} and not be '${LAN}'`);
    }
    if (seen.has(host.name)) throw new Error(`netns bed: host '${host.name}' given twice`);
    seen.add(host.name);
    const ipv4Prefix = IPV4_CIDR_PATTERN.exec(host.ipv4)?.[1];
    if (ipv4Prefix === undefined || Number(ipv4Prefix) < IPV4_PREFIX_MIN) {
      throw new Error(`netns bed: ${host.name} ipv4 '${host.ipv4}' is not a CIDR inside 198.18.0.0/15`);
    }
    if (host.ipv6 !== undefined && !isBenchmarkingIpv6(host.ipv6)) {
      throw new Error(`netns bed: ${host.name} ipv6 '${host.ipv6}' is not a CIDR inside 2001:2::/48`);
    }
  }
}

function isBenchmarkingIpv6(cidr: string): boolean {
  const [address, prefix, ...rest] = cidr.split('/');
  if (address === undefined || prefix === undefined || rest.length > 0 || !/^\d{1,3}$/.test(prefix)) return false;
  const length = Number(prefix);
  return isIPv6(address) && length >= IPV6_PREFIX_MIN && length <= 128 && IPV6_BENCHMARKING.check(address, 'ipv6');
}

function newPrefix(): string {
  return `tandem-${process.pid}-${randomBytes(3).toString('hex')}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive but not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Kills whatever still runs in the namespace (it would keep the namespace alive after its
 * name is gone), then deletes the name. */
async function removeNamespace(name: string): Promise<void> {
  const { stdout } = await ipOk(['netns', 'pids', name]);
  for (const pid of parsePids(stdout)) killQuietly(pid);
  await ipOk(['netns', 'del', name]);
}

function killNamespacePidsSync(name: string): void {
  const stdout = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8', timeout: IP_COMMAND_TIMEOUT_MS });
  for (const pid of parsePids(stdout)) killQuietly(pid);
}

function parsePids(stdout: string): number[] {
  return stdout.split('\n').filter((line) => /^\d+$/.test(line.trim())).map(Number);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

async function ipOk(args: readonly string[]): Promise<RunResult> {
  const result = await run('ip', args, { timeoutMs: IP_COMMAND_TIMEOUT_MS });
  if (result.code !== 0) throw new Error(`ip ${args.join(' ')} exited ${result.code ?? result.signal}: ${result.stderr.trim()}`);
  return result;
}

function exited(child: ChildProcess, deadlineMs: number): Promise<void> {
  // No pid: the spawn itself failed, so there is nothing to wait for.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, deadlineMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
