// The `linux` address backend: a filer's addresses are added to and removed from a network
// interface of the node with iproute2, and announced to the LAN, so that they move between
// hosts with the filer (the seed's partner "activates network interfaces and network addresses
// that replicate the first server's network addresses"). Layer: cluster/address.
//
// Acquire: read what the interface holds; check that no other host answers for each address
// (IPv4: ARP duplicate address detection with iputils arping -D; IPv6: a neighbour solicitation
// with ndisc6), waiting up to ANSWERED_WAIT_MS for an answer to stop, since a partner that died
// has its guard remove its addresses a moment later; then `ip addr add` (IPv6 with nodad: the
// check is done, and a tentative address could not be listened on). All or nothing: a failure
// midway removes what this call added. Then announce: gratuitous ARP (arping -U), repeated as
// VRRP implementations do; for IPv6 the kernel sends an unsolicited neighbour advertisement when
// the address is added, which start() turns on (ndisc_notify). Release: `ip addr del`.
//
// Parking. Between the moment the releasing node removes an address and the moment the new node
// announces it, clients still send to the releasing node's MAC; a host without the address
// drops their packets, and a dropped SYN costs the client its one-second retransmission timeout.
// So an IPv4 address given up is first added to `lo` and only then removed from the interface,
// and stays on `lo` for PARK_MS: this host still answers a client's SYN with a reset (the client
// retries at once) but, with `arp_ignore` 1 on the interface (set at start), no longer answers
// ARP for it, so the partner's duplicate check passes and the neighbours follow its
// announcement. (The same trick keeps the virtual addresses of LVS direct-routing servers quiet.)

import { readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import type { Logger } from '../../platform/logger.js';
import type { ServiceAddress } from '../config.js';
import { AddressError, type AddressBackend } from './address-backend.js';
import { AddressGuard, type GuardedAddress } from './address-guard.js';
import { firstLine, runCommand, type CommandRunner } from './command-runner.js';
import { tickleConnections } from './connection-tickle.js';
import type { TcpConnectionEndpoints } from '../../rpc/tcp-server.js';

/** How long an address may go on being answered for before acquiring it is refused. */
export const ANSWERED_WAIT_MS = 1_000;
/** How long an IPv4 address given up stays parked on `lo` (see "Parking"). */
export const PARK_MS = 3_000;
/** Gratuitous ARPs per announcement, one second apart (iputils arping's interval). */
export const ANNOUNCEMENTS = 3;
/** How long tickles wait for the first gratuitous ARP to be sent and heard. */
const ANNOUNCE_SETTLE_MS = 20;
/** The longest an `ip` command may run. */
const IP_TIMEOUT_MS = 5_000;
/** CAP_NET_ADMIN (linux/capability.h): needed to add and remove addresses. */
const CAP_NET_ADMIN = 12n;

export interface LinuxBackendOptions {
  readonly interface: string;
  /** Every filer address of the cluster: those left on the interface by a previous run go at start. */
  readonly addresses: readonly ServiceAddress[];
  /** How long the duplicate check waits for an answer. */
  readonly checkMs: number;
  readonly log: Logger;
  /** Runs ip, arping and ndisc6 (tests script it). */
  readonly run?: CommandRunner;
  /** The process's effective capabilities (tests pretend); read from /proc/self/status otherwise. */
  readonly capabilities?: () => Promise<bigint | undefined>;
  /** The guard that removes held addresses if the process dies (tests pass a recorder). */
  readonly guard?: Pick<AddressGuard, 'hold' | 'stop'>;
  /** Writes a sysctl under /proc/sys (tests record it). */
  readonly writeSysctl?: (file: string, value: string) => Promise<void>;
}

export class LinuxAddressBackend implements AddressBackend {
  readonly name = 'linux';
  readonly #options: LinuxBackendOptions;
  readonly #run: CommandRunner;
  readonly #interface: string;
  readonly #log: Logger;
  /** What this node added and has not removed, by `address@interface`: what the guard removes if the node dies. */
  readonly #held = new Map<string, GuardedAddress>();
  /** IPv4 addresses parked on `lo`, with the timer that removes each. */
  readonly #parked = new Map<string, NodeJS.Timeout>();
  /** Whether addresses given up are parked (arp_ignore could be set). */
  #parking = false;
  #guard: Pick<AddressGuard, 'hold' | 'stop'> | undefined;

  constructor(options: LinuxBackendOptions) {
    this.#options = options;
    this.#run = options.run ?? runCommand;
    this.#interface = options.interface;
    this.#log = options.log;
  }

  async start(): Promise<void> {
    const capabilities = await (this.#options.capabilities ?? effectiveCapabilities)();
    if (capabilities !== undefined && ((capabilities >> CAP_NET_ADMIN) & 1n) === 0n) {
      throw new AddressError(
        'addressBackend "linux" needs CAP_NET_ADMIN to add and remove addresses: run the node as root, or give it the capabilities CAP_NET_ADMIN and CAP_NET_RAW (systemd: AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW)',
      );
    }
    await this.#requireTool('ip', ['-V'], /iproute2|ip utility/i, 'ip from iproute2');
    await this.#requireTool('arping', ['-V'], /iputils/i, 'arping from iputils-arping (Debian package iputils-arping)');
    const ipv6 = this.#options.addresses.some((entry) => net.isIPv6(entry.address));
    if (ipv6) await this.#requireTool('ndisc6', ['-V'], /ndisc6/i, 'ndisc6 (Debian package ndisc6)');
    const present = await this.#present();
    const parked = await this.#present('lo');
    for (const entry of this.#options.addresses) {
      if (present.has(entry.address)) {
        this.#log.warn({ address: entry.address }, 'removing a filer address left on the interface by an earlier run of this node');
        await this.#remove(entry);
      }
      if (parked.has(entry.address) && net.isIPv4(entry.address)) await this.#remove(parkedOnLoopback(entry.address), 'lo');
    }
    const writeSysctl = this.#options.writeSysctl ?? ((file: string, value: string) => writeFile(file, value));
    // Parking needs this host to stop answering ARP for an address that is only on `lo`.
    this.#parking = await writeSysctl(`/proc/sys/net/ipv4/conf/${this.#interface}/arp_ignore`, '1').then(
      () => true,
      (error: unknown) => {
        this.#log.warn({ err: String(error) }, 'cannot set arp_ignore: addresses given up are not parked, and clients may wait a SYN retransmission after a move');
        return false;
      },
    );
    if (ipv6) {
      // The kernel then advertises an IPv6 address to the LAN as it is added (unsolicited NA).
      await writeSysctl(`/proc/sys/net/ipv6/conf/${this.#interface}/ndisc_notify`, '1').catch((error: unknown) =>
        this.#log.warn({ err: String(error) }, 'cannot turn on ndisc_notify: IPv6 neighbours learn a moved address only when their entry goes stale'),
      );
    }
    this.#guard = this.#options.guard ?? AddressGuard.start(this.#log, this.#parking ? PARK_MS / 1000 : 0);
  }

  async acquire(addresses: readonly ServiceAddress[]): Promise<void> {
    for (const entry of addresses) await this.#unpark(entry.address);
    const present = await this.#present();
    const missing = addresses.filter((entry) => !present.has(entry.address));
    await Promise.all(missing.map((entry) => this.#checkUnanswered(entry.address)));
    const added: ServiceAddress[] = [];
    try {
      for (const entry of missing) {
        // Guarded before it exists: a crash right after the add must not leave it behind.
        this.#hold(entry);
        await this.#add(entry).catch((error: unknown) => {
          this.#unhold(entry);
          throw error;
        });
        added.push(entry);
      }
    } catch (error) {
      for (const entry of added.reverse()) await this.#remove(entry).catch((reason: unknown) => this.#log.error({ err: String(reason) }, 'an address added before the failure could not be removed'));
      throw error;
    }
    // The ones that were here already are this node's to remove too (the others are held since added).
    for (const entry of addresses) if (present.has(entry.address)) this.#hold(entry);
    this.#announce(addresses);
  }

  #announce(addresses: readonly ServiceAddress[]): void {
    for (const entry of addresses) {
      // IPv6 was announced by the kernel as it was added (ndisc_notify).
      if (!net.isIPv4(entry.address)) continue;
      const timeoutMs = ANNOUNCEMENTS * 1000 + IP_TIMEOUT_MS;
      void this.#run('arping', ['-q', '-U', '-c', String(ANNOUNCEMENTS), '-I', this.#interface, entry.address], { timeoutMs }).then((result) => {
        if (result.code !== 0) this.#log.warn({ address: entry.address, err: firstLine(result) }, 'gratuitous ARP not sent: neighbours learn the move when their entry goes stale');
      });
    }
  }

  async resetStale(addresses: readonly ServiceAddress[], connections: readonly TcpConnectionEndpoints[]): Promise<number> {
    const ours = new Set(addresses.map((entry) => entry.address));
    const stale = connections.filter((connection) => ours.has(connection.server));
    if (stale.length === 0) return 0;
    // The clients' answers to the tickles must come here: let the first gratuitous ARP be heard.
    await new Promise((resolve) => setTimeout(resolve, ANNOUNCE_SETTLE_MS));
    const reset = await tickleConnections(stale);
    this.#log.info({ connections: stale.length, reset }, 'stale client connections tickled');
    return reset;
  }

  async release(addresses: readonly ServiceAddress[]): Promise<void> {
    const failures: string[] = [];
    // Only what is here is parked: a failed acquire must not park an address another host holds.
    const present = await this.#present().catch(() => undefined);
    for (const entry of addresses) {
      try {
        if (this.#parking && net.isIPv4(entry.address) && present?.has(entry.address) === true) await this.#park(entry.address);
        await this.#remove(entry);
      } catch (error) {
        failures.push(error instanceof Error ? error.message : String(error));
      }
    }
    if (failures.length > 0) throw new AddressError(failures.join('; '));
  }

  /** The guard is left what is parked; it removes that after the parking time, as the timers would. */
  async stop(): Promise<void> {
    for (const timer of this.#parked.values()) clearTimeout(timer);
    this.#parked.clear();
    this.#guard?.stop();
    this.#guard = undefined;
  }

  /** Adds `address` to `lo` (see "Parking") and removes it from there after PARK_MS. */
  async #park(address: string): Promise<void> {
    const result = await this.#run('ip', ['addr', 'add', `${address}/32`, 'dev', 'lo'], { timeoutMs: IP_TIMEOUT_MS });
    if (result.code !== 0 && !/already assigned|file exists/i.test(result.stderr)) {
      this.#log.warn({ address, err: firstLine(result) }, 'address not parked on lo: clients may wait a SYN retransmission');
      return;
    }
    this.#hold(parkedOnLoopback(address), 'lo');
    clearTimeout(this.#parked.get(address));
    const timer = setTimeout(() => void this.#unpark(address).catch((error: unknown) => this.#log.warn({ address, err: String(error) }, 'a parked address stays on lo')), PARK_MS);
    timer.unref();
    this.#parked.set(address, timer);
  }

  async #unpark(address: string): Promise<void> {
    const timer = this.#parked.get(address);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.#parked.delete(address);
    await this.#remove(parkedOnLoopback(address), 'lo');
  }

  /** Fails unless `tool` runs and says it is the expected one. */
  async #requireTool(tool: string, args: readonly string[], expected: RegExp, what: string): Promise<void> {
    const result = await this.#run(tool, args, { timeoutMs: IP_TIMEOUT_MS });
    if (!expected.test(`${result.stdout}${result.stderr}`)) {
      throw new AddressError(`addressBackend "linux" needs ${what}: ${result.code === 127 ? firstLine(result) : `"${tool} ${args.join(' ')}" printed ${JSON.stringify(firstLine(result))}`}`);
    }
  }

  /** The addresses on the interface now; an AddressError if the interface does not exist. */
  async #present(device = this.#interface): Promise<Set<string>> {
    const result = await this.#run('ip', ['-j', 'addr', 'show', 'dev', device], { timeoutMs: IP_TIMEOUT_MS });
    if (result.code !== 0) throw new AddressError(`interface ${device} cannot be read on this host: ${firstLine(result)}`);
    try {
      const links = JSON.parse(result.stdout) as { addr_info?: { local?: string }[] }[];
      return new Set(links.flatMap((link) => (link.addr_info ?? []).flatMap((info) => (info.local === undefined ? [] : [info.local]))));
    } catch {
      throw new AddressError(`"ip -j addr show dev ${device}" printed something that is not JSON`);
    }
  }

  /** Returns once no other host answers for `address`; refuses it if one still does after ANSWERED_WAIT_MS. */
  async #checkUnanswered(address: string): Promise<void> {
    const until = performance.now() + ANSWERED_WAIT_MS;
    for (;;) {
      const answeredBy = await this.#answeredBy(address);
      if (answeredBy === undefined) return;
      if (performance.now() >= until) {
        throw new AddressError(`${address} is answered for by another host (${answeredBy}) on ${this.#interface}: not added, as two hosts with one address would split its clients`);
      }
      this.#log.warn({ address, answeredBy }, 'another host answers for the address: waiting for it to go');
      await new Promise((resolve) => setTimeout(resolve, this.#options.checkMs));
    }
  }

  /** The link-layer address of a host answering for `address` within checkMs, or undefined. */
  async #answeredBy(address: string): Promise<string | undefined> {
    const { checkMs } = this.#options;
    if (net.isIPv4(address)) {
      // arping -D exits 1 on the first ARP packet another host sends from the address (-f): a
      // reply to the probe, or a request of its own (its probe, its announcement, its lookups);
      // nothing within checkMs of the first probe means nobody has it. Its line-buffered
      // "ARPING ..." line says the probe is going out.
      const window = { after: /^ARPING /m, ms: checkMs };
      const result = await this.#run('stdbuf', ['-oL', 'arping', '-D', '-f', '-c', '2', '-w', '1', '-I', this.#interface, address], { timeoutMs: IP_TIMEOUT_MS, window });
      // A claim read before the window closed counts, even if the window closed before arping exited.
      const claim = /(?:reply|request) from \S+ \[([0-9a-f:]+)\]/i.exec(result.stdout);
      if (claim !== null) return claim[1]?.toLowerCase() ?? 'unknown';
      if (result.windowEnded || result.code === 0) return undefined;
      const output = `${result.stderr.trim()}\n${result.stdout.trim()}`.trim().split('\n').join(' / ');
      throw new AddressError(`the duplicate-address check of ${address} on ${this.#interface} failed (arping exit ${result.code ?? 'by a signal'}): ${result.timedOut ? 'timed out' : output || 'no output'}`);
    }
    const result = await this.#run('ndisc6', ['-q', '-1', '-r', '1', '-w', String(checkMs), address, this.#interface], { timeoutMs: checkMs + IP_TIMEOUT_MS });
    if (result.code === 2) return undefined; // no response
    if (result.code === 0) return result.stdout.trim().toLowerCase() || 'unknown';
    throw new AddressError(`the duplicate-address check of ${address} on ${this.#interface} failed: ${firstLine(result)}`);
  }

  async #add(entry: ServiceAddress): Promise<void> {
    const args = ['addr', 'add', `${entry.address}/${entry.prefixLength}`, 'dev', this.#interface, ...(net.isIPv6(entry.address) ? ['nodad'] : [])];
    const result = await this.#run('ip', args, { timeoutMs: IP_TIMEOUT_MS });
    if (result.code !== 0) throw new AddressError(`cannot add ${entry.address}/${entry.prefixLength} to ${this.#interface}: ${firstLine(result)}`);
    this.#log.info({ address: entry.address }, 'address added');
  }

  /** Removes the address; one that is not there counts as removed. */
  async #remove(entry: ServiceAddress, device = this.#interface): Promise<void> {
    const result = await this.#run('ip', ['addr', 'del', `${entry.address}/${entry.prefixLength}`, 'dev', device], { timeoutMs: IP_TIMEOUT_MS });
    if (result.code !== 0 && !/address not found|cannot assign requested address/i.test(result.stderr)) {
      throw new AddressError(`cannot remove ${entry.address}/${entry.prefixLength} from ${device}: ${firstLine(result)}`);
    }
    this.#unhold(entry, device);
  }

  #unhold(entry: ServiceAddress, device = this.#interface): void {
    this.#held.delete(`${entry.address}@${device}`);
    this.#guard?.hold([...this.#held.values()]);
  }

  #hold(entry: ServiceAddress, device = this.#interface): void {
    this.#held.set(`${entry.address}@${device}`, { ...entry, interface: device });
    this.#guard?.hold([...this.#held.values()]);
  }
}

/** CapEff of this process, or undefined where /proc cannot say. */
async function effectiveCapabilities(): Promise<bigint | undefined> {
  try {
    const status = await readFile('/proc/self/status', 'utf8');
    const hex = /^CapEff:\s*([0-9a-f]+)$/im.exec(status)?.[1];
    return hex === undefined ? undefined : BigInt(`0x${hex}`);
  } catch {
    return undefined;
  }
}

/** An IPv4 address as it is parked on `lo`. */
function parkedOnLoopback(address: string): ServiceAddress {
  return { address, prefixLength: 32 };
}
