// Tests of the `linux` address backend against a scripted host: a CommandRunner that records
// every command and answers the way iproute2, iputils arping and ndisc6 do, from a small model
// of the interface's addresses and of other hosts on the LAN. Nothing real is run. The
// interface is a name no host has, because start() writes ndisc_notify under /proc for it when
// an IPv6 address is configured, and that write must fail harmlessly here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import pino from 'pino';
import { silentLogger, type Logger } from '../../platform/logger.js';
import { parseConfig, type ServiceAddress } from '../config.js';
import { AddressError, addressBackendFor, LoopbackAddressBackend, type AddressBackend } from './address-backend.js';
import type { GuardedAddress } from './address-guard.js';
import type { CommandResult, CommandRunner } from './command-runner.js';
import { ANSWERED_WAIT_MS, LinuxAddressBackend } from './linux-backend.js';

const IF = 'tandem-t0';
const CHECK_MS = 10;
const ALL_CAPABILITIES = (1n << 41n) - 1n;
const CAP_NET_ADMIN = 12n;
const CAP_NET_RAW = 13n;
const OTHER_MAC = '6A:A6:B0:44:47:30';

const A4: ServiceAddress = { address: '198.18.0.11', prefixLength: 24 };
const B4: ServiceAddress = { address: '198.18.0.12', prefixLength: 24 };
const A6: ServiceAddress = { address: '2001:db8::11', prefixLength: 64 };
/** The node's own address on the interface: no filer's, so never touched. */
const NODE_OWN = '198.18.0.1';

interface Call {
  readonly command: string;
  readonly args: readonly string[];
  readonly timeoutMs: number;
  /** How long the tool may listen after its first line, when it listens. */
  readonly windowMs: number | undefined;
}

const ok = (stdout = ''): CommandResult => ({ code: 0, stdout, stderr: '', timedOut: false, windowEnded: false });
const fails = (code: number, stderr: string, stdout = ''): CommandResult => ({ code, stdout, stderr, timedOut: false, windowEnded: false });
/** arping -D heard nothing within its listening window (the runner ended it). */
const UNANSWERED = (address: string): CommandResult => ({ code: null, stdout: `ARPING ${address} from 0.0.0.0 ${IF}\n`, stderr: '', timedOut: false, windowEnded: true });

/** One host and its LAN as the tools see them; `run` is the CommandRunner the backend is given. */
class ScriptedHost {
  readonly calls: Call[] = [];
  /** Addresses on the interface, with their prefix lengths. */
  readonly present = new Map<string, number>([[NODE_OWN, 24]]);
  interfaceExists = true;
  ipVersion = 'ip utility, iproute2-6.1.0';
  arpingVersion = 'arping from iputils 20221126';
  ndisc6Version = 'ndisc6: IPv6 Neighbor/Router Discovery userland tool 1.0.5 (built Jan  1 2023)';
  /** Addresses another host answers for, with how many more checks it answers (Infinity: for good). */
  readonly answered = new Map<string, number>();
  /** Addresses the other host claims with ARP requests of its own rather than replies. */
  readonly claimedByRequest = new Set<string>();
  /** Addresses whose duplicate check itself fails, with the tool's complaint. */
  readonly checkBroken = new Map<string, string>();
  /** Addresses `ip addr add` / `ip addr del` refuses, with the kernel's complaint. */
  readonly addRefused = new Map<string, string>();
  readonly delRefused = new Map<string, string>();
  /** Addresses parked on lo (`address/32`). */
  readonly parkedOnLo = new Set<string>();
  /** The result of `arping -U`. */
  announceResult = ok();

  readonly run: CommandRunner = async (command, args, { timeoutMs, window }) => {
    // arping runs under `stdbuf -oL`, so that its first line opens the listening window.
    if (command === 'stdbuf') {
      assert.equal(args[0], '-oL');
      assert.ok(window !== undefined && window.after.test(`ARPING ${args.at(-1)} from 0.0.0.0 ${IF}\n`), 'arping -D listens within a window opened by its first line');
      [command, ...args] = args.slice(1) as [string, ...string[]];
    }
    this.calls.push({ command, args: [...args], timeoutMs, windowMs: window?.ms });
    return this.#answer(command, args);
  };

  /** The calls as "command arg arg ...", for order checks that read as a transcript. */
  transcript(): string[] {
    return this.calls.map((call) => [call.command, ...call.args].join(' '));
  }

  #answer(command: string, args: readonly string[]): CommandResult {
    const line = [command, ...args].join(' ');
    if (line === 'ip -V') return ok(this.ipVersion);
    if (line === 'arping -V') return ok(this.arpingVersion);
    if (line === 'ndisc6 -V') return ok(this.ndisc6Version);
    if (command === 'ip' && args[0] === '-j') return this.#show(args.at(-1)!);
    if (command === 'ip' && args[0] === 'addr' && args[1] === 'add') return this.#add(args);
    if (command === 'ip' && args[0] === 'addr' && args[1] === 'del') return this.#del(args);
    if (command === 'arping' && args.includes('-D')) return this.#check(args.at(-1)!, 'arping');
    if (command === 'arping' && args.includes('-U')) return this.announceResult;
    if (command === 'ndisc6') return this.#check(args.at(-2)!, 'ndisc6');
    assert.fail(`the scripted host has no answer for: ${line}`);
  }

  #show(device: string): CommandResult {
    if (device === 'lo') return ok(JSON.stringify([{ ifindex: 1, ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8 }] }]));
    if (!this.interfaceExists || device !== IF) return fails(1, `Device "${device}" does not exist.`);
    const addrInfo = [...this.present].map(([local, prefixlen]) => ({ family: net.isIPv6(local) ? 'inet6' : 'inet', local, prefixlen, scope: 'global' }));
    return ok(JSON.stringify([{ ifindex: 2, ifname: IF, flags: ['BROADCAST', 'MULTICAST', 'UP'], addr_info: addrInfo }]));
  }

  #add(args: readonly string[]): CommandResult {
    if (args[4] === 'lo') return this.parkedOnLo.add(args[2]!) && ok();
    const [address, prefix] = args[2]!.split('/') as [string, string];
    assert.equal(args[4], IF);
    const refusal = this.addRefused.get(address);
    if (refusal !== undefined) return fails(2, refusal);
    if (this.present.has(address)) return fails(2, 'RTNETLINK answers: File exists');
    this.present.set(address, Number(prefix));
    return ok();
  }

  #del(args: readonly string[]): CommandResult {
    if (args[4] === 'lo') return this.parkedOnLo.delete(args[2]!) ? ok() : fails(2, 'Error: ipv4: Address not found.');
    const [address] = args[2]!.split('/') as [string];
    assert.equal(args[4], IF);
    const refusal = this.delRefused.get(address);
    if (refusal !== undefined) return fails(2, refusal);
    if (!this.present.delete(address)) {
      return fails(2, net.isIPv6(address) ? 'RTNETLINK answers: Cannot assign requested address' : 'Error: ipv4: Address not found.');
    }
    return ok();
  }

  #check(address: string, tool: 'arping' | 'ndisc6'): CommandResult {
    const broken = this.checkBroken.get(address);
    if (broken !== undefined) return fails(tool === 'arping' ? 2 : 1, broken);
    const left = this.answered.get(address) ?? 0;
    if (left > 0) this.answered.set(address, left - 1);
    if (tool === 'ndisc6') return left > 0 ? ok(`${OTHER_MAC}\n`) : fails(2, '');
    // iputils arping -D: exit 1 with the reply printed; no reply ends at the runner's deadline.
    if (left > 0) {
      const claim = this.claimedByRequest.has(address) ? `Broadcast request from ${address} [${OTHER_MAC}]  UNSOLICITED?` : `Unicast reply from ${address} [${OTHER_MAC}]  0.548ms`;
      return fails(1, '', `ARPING ${address} from 0.0.0.0 ${IF}\n${claim}\nSent 1 probes (1 broadcast(s))\nReceived 1 response(s)\n`);
    }
    return UNANSWERED(address);
  }
}

/** Stands in for the AddressGuard: keeps every set it is told. */
class GuardRecorder {
  readonly sets: string[][] = [];
  stops = 0;
  hold(addresses: readonly GuardedAddress[]): void {
    this.sets.push(addresses.map((held) => `${held.address}/${held.prefixLength}@${held.interface}`).sort());
  }
  stop(): void {
    this.stops += 1;
  }
  /** The set the guard would remove if the node died now. */
  get last(): string[] {
    return this.sets.at(-1) ?? [];
  }
}

const held = (...entries: ServiceAddress[]) => entries.map((entry) => `${entry.address}/${entry.prefixLength}@${IF}`).sort();

interface Rig {
  readonly host: ScriptedHost;
  readonly guard: GuardRecorder;
  readonly backend: LinuxAddressBackend;
}

function rig(options: { addresses?: readonly ServiceAddress[]; capabilities?: bigint | undefined; interface?: string; log?: Logger; sysctls?: Map<string, string> } = {}): Rig {
  const host = new ScriptedHost();
  const guard = new GuardRecorder();
  const capabilities = 'capabilities' in options ? options.capabilities : ALL_CAPABILITIES;
  const backend = new LinuxAddressBackend({
    interface: options.interface ?? IF,
    addresses: options.addresses ?? [A4, B4],
    checkMs: CHECK_MS,
    log: options.log ?? silentLogger(),
    run: host.run,
    capabilities: async () => capabilities,
    guard,
    // Without a map, the sysctls cannot be written (parking off), as for a made-up interface.
    writeSysctl: async (file, value) => {
      if (options.sysctls === undefined) throw new Error(`${file}: no such file`);
      options.sysctls.set(file, value);
    },
  });
  return { host, guard, backend };
}

/** A rig whose backend has started; the calls start() made are forgotten. */
async function started(options: Parameters<typeof rig>[0] = {}): Promise<Rig> {
  const made = rig(options);
  await made.backend.start();
  made.host.calls.length = 0;
  return made;
}

/** The AddressError `promise` rejects with. */
async function addressError(promise: Promise<unknown>): Promise<AddressError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AddressError, `expected an AddressError, got ${String(error)}`);
    return error;
  }
  assert.fail('resolved, but an AddressError was expected');
}

/** A logger whose warnings and errors are kept, parsed. */
function capturingLogger(): { log: Logger; lines: { msg: string; [key: string]: unknown }[] } {
  const lines: { msg: string }[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
  return { log, lines };
}

// ---- start ---------------------------------------------------------------------------------

test('linux backend start: refuses without CAP_NET_ADMIN, saying which capability is missing', async () => {
  // Goal: a node that cannot add addresses says so at start, before running any tool.
  for (const capabilities of [0n, 1n << CAP_NET_RAW]) {
    const { host, backend } = rig({ capabilities });
    const error = await addressError(backend.start());
    assert.match(error.message, /needs CAP_NET_ADMIN/);
    assert.deepEqual(host.calls, []);
  }
  // CAP_NET_ADMIN alone passes the check; so does a host whose /proc cannot say.
  await rig({ capabilities: 1n << CAP_NET_ADMIN }).backend.start();
  await rig({ capabilities: undefined }).backend.start();
});

test('linux backend start: refuses an arping that is not iputils, naming iputils-arping', async () => {
  // Goal: Habets' arping takes other options, so the duplicate check would silently mean nothing.
  const habets = rig();
  habets.host.arpingVersion = 'ARPing 2.23, by Thomas Habets <thomas@habets.se>';
  const error = await addressError(habets.backend.start());
  assert.match(error.message, /iputils-arping/);
  assert.match(error.message, /Thomas Habets/);
});

test('linux backend start: an arping that cannot be started is named as not installed', async () => {
  // Goal: the operator reads "not installed", not an empty version string.
  const host = new ScriptedHost();
  const backend = new LinuxAddressBackend({
    interface: IF,
    addresses: [A4],
    checkMs: CHECK_MS,
    log: silentLogger(),
    run: async (command, args, options) => (command === 'arping' ? fails(127, 'arping: not installed (not found on PATH)') : host.run(command, args, options)),
    capabilities: async () => ALL_CAPABILITIES,
    guard: new GuardRecorder(),
  });
  const error = await addressError(backend.start());
  assert.match(error.message, /iputils-arping.*arping: not installed \(not found on PATH\)/);
});

test('linux backend start: refuses an interface the host does not have, naming it', async () => {
  // Goal: a typo in nodes[].interface stops the node at start, not at the first takeover.
  const { host, backend } = rig({ interface: 'eth9' });
  host.interfaceExists = false;
  const error = await addressError(backend.start());
  assert.match(error.message, /interface eth9 cannot be read on this host: Device "eth9" does not exist\./);
});

test('linux backend start: removes filer addresses an earlier run left on the interface, and only those', async () => {
  // Goal: a node restarted after a crash does not answer for a filer its partner may now serve.
  const { host, guard, backend } = rig({ addresses: [A4, B4, A6] });
  host.present.set(A4.address, 24);
  host.present.set(B4.address, 24);
  host.present.set('198.18.0.99', 24); // not a filer's: someone else's business
  await backend.start();
  assert.deepEqual(
    host.transcript().filter((line) => line.startsWith('ip addr')),
    [`ip addr del 198.18.0.11/24 dev ${IF}`, `ip addr del 198.18.0.12/24 dev ${IF}`],
  );
  assert.deepEqual([...host.present.keys()].sort(), [NODE_OWN, '198.18.0.99']);
  assert.deepEqual(guard.last, [], 'nothing is held after start');
});

test('linux backend start: checks for ndisc6 only when an IPv6 address is configured', async () => {
  // Goal: an IPv4-only cluster does not need ndisc6 installed; an IPv6 one is told it does.
  const ipv4 = rig({ addresses: [A4, B4] });
  await ipv4.backend.start();
  assert.deepEqual(ipv4.host.transcript(), ['ip -V', 'arping -V', `ip -j addr show dev ${IF}`, 'ip -j addr show dev lo']);

  const ipv6 = rig({ addresses: [A4, A6] });
  await ipv6.backend.start();
  assert.deepEqual(ipv6.host.transcript(), ['ip -V', 'arping -V', 'ndisc6 -V', `ip -j addr show dev ${IF}`, 'ip -j addr show dev lo']);

  const noNdisc6 = rig({ addresses: [A6] });
  noNdisc6.host.ndisc6Version = '';
  const error = await addressError(noNdisc6.backend.start());
  assert.match(error.message, /ndisc6 \(Debian package ndisc6\)/);
});

// ---- acquire -------------------------------------------------------------------------------

test('linux backend acquire: reads the interface, checks each address, adds it (IPv6 with nodad), then announces it', async () => {
  // Goal: no address is added before the check that nobody else answers for it, nor announced before it is added.
  const { host, guard, backend } = await started({ addresses: [A4, A6] });
  await backend.acquire([A4, A6]);
  assert.deepEqual(host.transcript(), [
    `ip -j addr show dev ${IF}`,
    `arping -D -f -c 2 -w 1 -I ${IF} 198.18.0.11`,
    `ndisc6 -q -1 -r 1 -w ${CHECK_MS} 2001:db8::11 ${IF}`,
    `ip addr add 198.18.0.11/24 dev ${IF}`,
    `ip addr add 2001:db8::11/64 dev ${IF} nodad`,
    `arping -q -U -c 3 -I ${IF} 198.18.0.11`,
  ]);
  assert.equal(host.calls[1]!.windowMs, CHECK_MS, 'arping -D is given checkMs after its first probe to hear an answer');
  assert.equal(host.present.get(A4.address), 24);
  assert.equal(host.present.get(A6.address), 64);
  assert.deepEqual(guard.last, held(A4, A6));
});

test('linux backend acquire: an address already on the interface is neither checked nor added', async () => {
  // Goal: the host's own address would answer its own check; taking it again must not fail.
  const { host, guard, backend } = await started();
  host.present.set(A4.address, 24);
  await backend.acquire([A4]);
  assert.deepEqual(host.transcript(), [`ip -j addr show dev ${IF}`, `arping -q -U -c 3 -I ${IF} 198.18.0.11`]);
  assert.deepEqual(guard.last, held(A4), 'it is held (and announced) all the same, so a crash removes it');
});

test('linux backend acquire: an address another host goes on answering for is refused after ANSWERED_WAIT_MS, naming it and the MAC', async () => {
  // Goal: two hosts never hold one address; the partner gets its guard's grace period first.
  const { host, guard, backend } = await started();
  host.answered.set(A4.address, Infinity);
  const began = performance.now();
  const error = await addressError(backend.acquire([A4]));
  const tookMs = performance.now() - began;
  assert.match(error.message, /198\.18\.0\.11 is answered for by another host/);
  assert.match(error.message, new RegExp(OTHER_MAC, 'i'));
  assert.ok(tookMs >= ANSWERED_WAIT_MS - 100, `refused after ${tookMs.toFixed(0)} ms, before the wait was over`);
  assert.ok(host.transcript().filter((line) => line.startsWith('arping -D')).length > 1, 'the check was repeated');
  assert.ok(!host.transcript().some((line) => line.startsWith('ip addr add')), 'ip addr add was never run');
  assert.ok(!host.transcript().some((line) => line.includes(' -U ')), 'nothing is announced');
  assert.equal(host.present.has(A4.address), false);
  assert.deepEqual(guard.last, []);
});

test('linux backend acquire: an ARP request another host sends from the address is a claim too, waited out like a reply', async () => {
  // Goal: a host announcing or probing the address (arping -D prints "request from" and exits 1)
  // is not taken for a broken check; found in CI, where the partner had just given it up.
  const { host, guard, backend } = await started();
  host.answered.set(A4.address, 1);
  host.claimedByRequest.add(A4.address);
  await backend.acquire([A4]);
  assert.equal(host.transcript().filter((line) => line.startsWith('arping -D')).length, 2, 'checked again once the claim was seen');
  assert.equal(host.present.get(A4.address), A4.prefixLength);
  assert.deepEqual(guard.last, held(A4));

  const refused = await started();
  refused.host.answered.set(A4.address, Infinity);
  refused.host.claimedByRequest.add(A4.address);
  const error = await addressError(refused.backend.acquire([A4]));
  assert.match(error.message, new RegExp(`198\\.18\\.0\\.11 is answered for by another host \\(${OTHER_MAC}\\)`, 'i'));
});

test('linux backend acquire: an answer that stops within the wait lets the address be added', async () => {
  // Goal: a dead partner whose guard removes its addresses a moment later does not block takeover.
  const { host, guard, backend } = await started({ addresses: [A4, A6] });
  host.answered.set(A4.address, 3);
  host.answered.set(A6.address, 2);
  const began = performance.now();
  await backend.acquire([A4, A6]);
  assert.ok(performance.now() - began < ANSWERED_WAIT_MS, 'it did not wait the whole grace period');
  assert.equal(host.transcript().filter((line) => line.startsWith('arping -D')).length, 4);
  assert.equal(host.transcript().filter((line) => line.startsWith('ndisc6')).length, 3);
  assert.deepEqual(guard.last, held(A4, A6));
});

test('linux backend acquire: a duplicate check that fails refuses the address at once', async () => {
  // Goal: "the check could not run" is not taken for "nobody answers".
  for (const [address, complaint] of [
    [A4, 'arping: socket: Operation not permitted'],
    [A6, 'Raw IPv6 socket: Operation not permitted'],
  ] as const) {
    const { host, backend } = await started({ addresses: [A4, A6] });
    host.checkBroken.set(address.address, complaint);
    const error = await addressError(backend.acquire([address]));
    assert.match(error.message, new RegExp(`duplicate-address check of ${address.address} on ${IF} failed( \\(arping exit 2\\))?: ${complaint}`));
    assert.ok(!host.transcript().some((line) => line.startsWith('ip addr add')));
  }
});

test('linux backend acquire: all or nothing; a failed add removes what this call added and names the address', async () => {
  // Goal: a filer never half-moves: either all its addresses are here or none is.
  const { host, guard, backend } = await started();
  host.addRefused.set(B4.address, 'RTNETLINK answers: Operation not permitted');
  const error = await addressError(backend.acquire([A4, B4]));
  assert.match(error.message, /cannot add 198\.18\.0\.12\/24 to tandem-t0: RTNETLINK answers: Operation not permitted/);
  assert.deepEqual(host.transcript().slice(-3), [
    `ip addr add 198.18.0.11/24 dev ${IF}`,
    `ip addr add 198.18.0.12/24 dev ${IF}`,
    `ip addr del 198.18.0.11/24 dev ${IF}`,
  ]);
  assert.deepEqual([...host.present.keys()], [NODE_OWN]);
  assert.deepEqual(guard.last, []);
  assert.ok(!host.transcript().some((line) => line.includes(' -U ')), 'nothing is announced');
});

test('linux backend: the guard is told exactly the held set after each acquire and release', async () => {
  // Goal: a crash at any point removes what this node holds, no more and no less.
  const { guard, backend } = await started({ addresses: [A4, B4, A6] });
  await backend.acquire([A4]);
  assert.deepEqual(guard.last, held(A4));
  await backend.acquire([B4, A6]);
  assert.deepEqual(guard.last, held(A4, B4, A6));
  await backend.release([A4]);
  assert.deepEqual(guard.last, held(B4, A6));
  await backend.release([B4, A6]);
  assert.deepEqual(guard.last, []);
  await backend.stop();
  assert.equal(guard.stops, 1);
  await backend.stop();
  assert.equal(guard.stops, 1, 'a second stop has no guard left to stop');
});

// ---- release -------------------------------------------------------------------------------

test('linux backend release: removes each address', async () => {
  // Goal: after release the host answers for none of them.
  const { host, guard, backend } = await started({ addresses: [A4, A6] });
  await backend.acquire([A4, A6]);
  host.calls.length = 0;
  await backend.release([A4, A6]);
  assert.deepEqual(host.transcript(), [`ip -j addr show dev ${IF}`, `ip addr del 198.18.0.11/24 dev ${IF}`, `ip addr del 2001:db8::11/64 dev ${IF}`]);
  assert.deepEqual([...host.present.keys()], [NODE_OWN]);
  assert.deepEqual(guard.last, []);
});

test('linux backend release: an address already gone counts as removed', async () => {
  // Goal: release is idempotent; an operator's manual `ip addr del` does not fail a giveback.
  const { host, guard, backend } = await started({ addresses: [A4, A6] });
  await backend.acquire([A4, A6]);
  host.present.delete(A4.address);
  host.present.delete(A6.address);
  await backend.release([A4, A6]);
  assert.deepEqual(guard.last, []);
});

test('linux backend release: a real failure throws an AddressError after still trying the others', async () => {
  // Goal: one stuck address does not keep the others on the interface, and is reported.
  const { host, guard, backend } = await started();
  await backend.acquire([A4, B4]);
  host.delRefused.set(A4.address, 'RTNETLINK answers: Operation not permitted');
  const error = await addressError(backend.release([A4, B4]));
  assert.match(error.message, /cannot remove 198\.18\.0\.11\/24 from tandem-t0: RTNETLINK answers: Operation not permitted/);
  assert.doesNotMatch(error.message, /198\.18\.0\.12/);
  assert.equal(host.present.has(B4.address), false, 'the second address was removed');
  assert.equal(host.present.has(A4.address), true);
  assert.deepEqual(guard.last, held(A4), 'the address still on the interface stays guarded');
});

// ---- announcement and resetStale -------------------------------------------------------------

test('linux backend acquire: announces IPv4 addresses with gratuitous ARP, and IPv6 ones not at all', async () => {
  // Goal: neighbours learn the move; IPv6 was announced by the kernel as it was added (ndisc_notify).
  const { host, backend } = await started({ addresses: [A4, B4, A6] });
  await backend.acquire([A4, A6, B4]);
  assert.deepEqual(
    host.transcript().filter((line) => line.includes(' -U ')),
    [`arping -q -U -c 3 -I ${IF} 198.18.0.11`, `arping -q -U -c 3 -I ${IF} 198.18.0.12`],
  );
});

test('linux backend acquire: a gratuitous ARP that fails is a warning, not an error', async () => {
  // Goal: the announcement is fire-and-forget; a failure is visible in the log and fails nothing.
  const { log, lines } = capturingLogger();
  const { host, guard, backend } = await started({ log });
  host.announceResult = fails(2, `arping: ${IF}: No such device`);
  await backend.acquire([A4]);
  assert.deepEqual(guard.last, held(A4));
  await new Promise((resolve) => setImmediate(resolve));
  const warning = lines.find((line) => line.msg.startsWith('gratuitous ARP not sent'));
  assert.ok(warning, 'the failure was logged');
  assert.equal(warning['address'], A4.address);
  assert.equal(warning['err'], `arping: ${IF}: No such device`);
});

test('linux backend resetStale: with no connection to one of the addresses it runs nothing and resolves 0', async () => {
  // Goal: a takeover without stale clients costs no announcement and no tickle.
  const { host, backend } = await started();
  assert.equal(await backend.resetStale([A4], []), 0);
  assert.equal(await backend.resetStale([A4], [{ client: '198.18.0.200', clientPort: 900, server: B4.address, serverPort: 2049 }]), 0);
  assert.deepEqual(host.calls, []);
});

// ---- loopback and the choice of backend -----------------------------------------------------

test('loopback backend: every step does nothing and succeeds', async () => {
  // Goal: the demo and tests on 127.0.0.0/8 need no privileges and run no tool.
  const backend = new LoopbackAddressBackend();
  const address = { address: '127.0.0.11', prefixLength: 32 };
  assert.equal(backend.name, 'loopback');
  await backend.start();
  await backend.acquire();
  assert.equal(await backend.resetStale(), 0);
  await backend.release();
  await backend.stop();
  // Through the interface, as FilerHost calls it.
  const asInterface: AddressBackend = backend;
  await asInterface.acquire([address]);
  assert.equal(await asInterface.resetStale([address], [{ client: '127.0.0.1', clientPort: 900, server: address.address, serverPort: 2049 }]), 0);
});

const SECRET = 'an inline secret of at least 32 characters';

function configYaml(backend: 'loopback' | 'linux'): string {
  const linux = backend === 'linux';
  return [
    `addressBackend: ${backend}`,
    'cluster: { name: demo, secret: "' + SECRET + '", mailbox: ./mailbox }',
    'nodes:',
    `  - { name: a, interconnect: "127.0.0.1:31001", admin: "127.0.0.1:31101", partner: b${linux ? ', interface: eth0' : ''} }`,
    `  - { name: b, interconnect: "127.0.0.1:31002", admin: "127.0.0.1:31102", partner: a${linux ? ', interface: ens3' : ''} }`,
    'filers:',
    `  - { name: fa, home: a, addresses: ["${linux ? '198.18.0.11/24' : '127.0.0.11'}"], volumes: [{ directory: ./volumes/a }] }`,
    `  - { name: fb, home: b, addresses: ["${linux ? '198.18.0.12/24' : '127.0.0.12'}"], volumes: [{ directory: ./volumes/b }] }`,
  ].join('\n');
}

test('addressBackendFor: picks the backend the configuration names', () => {
  // Goal: addressBackend in the file decides; linux needs the node's interface.
  const loopback = addressBackendFor(parseConfig(configYaml('loopback'), '/srv/cluster'), 'a', silentLogger());
  assert.ok(loopback instanceof LoopbackAddressBackend);

  const linuxConfig = parseConfig(configYaml('linux'), '/srv/cluster');
  const linux = addressBackendFor(linuxConfig, 'b', silentLogger());
  assert.ok(linux instanceof LinuxAddressBackend);
  assert.equal(linux.name, 'linux');

  assert.throws(() => addressBackendFor(linuxConfig, 'c', silentLogger()), (error: unknown) => error instanceof AddressError && /node c has no interface/.test(error.message));
});

test('linux backend release: with arp_ignore set, an IPv4 address is parked on lo before it leaves the interface, and unparked when acquired again', async () => {
  // Goal: clients that still send to this host after a move are reset, not dropped (a lost SYN
  // costs them a second); the host stops answering ARP for it (arp_ignore 1), so it can move.
  const sysctls = new Map<string, string>();
  const { host, guard, backend } = await started({ addresses: [A4, A6], sysctls });
  assert.equal(sysctls.get(`/proc/sys/net/ipv4/conf/${IF}/arp_ignore`), '1');
  await backend.acquire([A4, A6]);
  host.calls.length = 0;
  await backend.release([A4, A6]);
  assert.deepEqual(host.transcript(), [
    `ip -j addr show dev ${IF}`,
    'ip addr add 198.18.0.11/32 dev lo',
    `ip addr del 198.18.0.11/24 dev ${IF}`,
    `ip addr del 2001:db8::11/64 dev ${IF}`,
  ]);
  assert.deepEqual([...host.parkedOnLo], ['198.18.0.11/32']);
  assert.deepEqual(guard.last, ['198.18.0.11/32@lo'], 'a crash now leaves the guard to unpark it');
  host.calls.length = 0;
  await backend.acquire([A4]);
  assert.equal(host.transcript()[0], 'ip addr del 198.18.0.11/32 dev lo', 'unparked before it is checked and added');
  assert.deepEqual([...host.parkedOnLo], []);
  await backend.stop();
});
