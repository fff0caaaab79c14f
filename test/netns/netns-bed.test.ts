// The network-namespace test bed (netns-bed.ts): hosts on its LAN reach each other over IPv4
// and IPv6, its addresses never appear in this process's namespace, destroy() leaves nothing
// behind, and a create that fails midway cleans up. Skipped, with the reason printed, where
// namespaces are unavailable (not root, no iproute2).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { BlockList } from 'node:net';
import { run, runOk } from '../support/processes.js';
import { listNamespaces, NetnsBed, netnsSupport, sweepStaleBeds, type NetnsHost } from './netns-bed.js';

const support = await netnsSupport();
if (!support.ok) console.log('netns tests skipped: ' + support.reason);
const skip = support.ok ? false : support.reason;

const HOSTS: readonly NetnsHost[] = [
  { name: 'a', ipv4: '198.18.0.1/24', ipv6: '2001:2::1/64' },
  { name: 'b', ipv4: '198.18.0.2/24', ipv6: '2001:2::2/64' },
  { name: 'c', ipv4: '198.18.0.3/24', ipv6: '2001:2::3/64' },
];
const PORT = 7000;
const READY_DEADLINE_MS = 5_000;
const CLIENT_TIMEOUT_MS = 5_000;

// Listens on every address given, answers each connection with its peer's address, and
// prints 'listening' once all listeners are up.
const SERVER_SCRIPT = `
const net = require('node:net');
const [port, ...hosts] = process.argv.slice(1);
let pending = hosts.length;
for (const host of hosts) {
  net.createServer((socket) => socket.end('hello ' + socket.remoteAddress + '\\n'))
    .listen(Number(port), host, () => { if (--pending === 0) console.log('listening'); });
}`;

// Connects, prints everything the server sends, exits 0 when the server closes.
const CLIENT_SCRIPT = `
const net = require('node:net');
const [host, port] = process.argv.slice(1);
const socket = net.connect({ host, port: Number(port) });
socket.setEncoding('utf8');
socket.on('data', (text) => process.stdout.write(text));
socket.on('error', (error) => { console.error(error.message); process.exit(1); });`;

const BENCHMARKING = new BlockList();
BENCHMARKING.addSubnet('198.18.0.0', 15, 'ipv4');
BENCHMARKING.addSubnet('2001:2::', 48, 'ipv6');

/** Resolves once `child` prints a line equal to `line`; rejects at the deadline or its exit. */
function waitForLine(child: ChildProcess, line: string, deadlineMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const stderr: string[] = [];
    const finish = (error?: Error) => {
      clearTimeout(timer);
      child.stdout!.off('data', onData);
      child.off('exit', onExit);
      if (error === undefined) resolve();
      else reject(new Error(`${error.message}\nstderr: ${stderr.join('')}`));
    };
    const onData = (chunk: Buffer) => {
      buffered += chunk.toString();
      if (buffered.split('\n').some((printed) => printed.trim() === line)) finish();
    };
    const onExit = (code: number | null) => finish(new Error(`exited ${code} before printing '${line}'`));
    const timer = setTimeout(() => finish(new Error(`did not print '${line}' within ${deadlineMs} ms`)), deadlineMs);
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    child.stdout!.on('data', onData);
    child.on('exit', onExit);
  });
}

/** Every address configured in the namespace this process runs in. */
async function rootAddresses(): Promise<{ family: string; local: string }[]> {
  const { stdout } = await runOk('ip', ['-j', 'addr']);
  const links = JSON.parse(stdout) as { addr_info?: { family: string; local: string }[] }[];
  return links.flatMap((link) => link.addr_info ?? []);
}

async function namespacesStartingWith(prefix: string): Promise<string[]> {
  return (await listNamespaces()).filter((name) => name.startsWith(prefix));
}

test('netns bed: c reaches a TCP server in a over IPv4 and IPv6, and learns a\'s MAC', { skip }, async (t) => {
  // Goal: the bed is a working LAN: connections cross the bridge and neighbour discovery runs.
  const bed = await NetnsBed.create({ hosts: HOSTS });
  t.after(() => bed.destroy());
  const server = bed.spawn('a', process.execPath, ['-e', SERVER_SCRIPT, String(PORT), '198.18.0.1', '2001:2::1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(server, 'listening', READY_DEADLINE_MS);

  const ipv4 = await bed.execOk('c', process.execPath, ['-e', CLIENT_SCRIPT, '198.18.0.1', String(PORT)], { timeoutMs: CLIENT_TIMEOUT_MS });
  assert.equal(ipv4.stdout, 'hello 198.18.0.3\n', 'a sees the connection come from c\'s IPv4 address');
  const ipv6 = await bed.execOk('c', process.execPath, ['-e', CLIENT_SCRIPT, '2001:2::1', String(PORT)], { timeoutMs: CLIENT_TIMEOUT_MS });
  assert.equal(ipv6.stdout, 'hello 2001:2::3\n', 'a sees the connection come from c\'s IPv6 address');

  const macOfA = await bed.mac('a');
  assert.match(macOfA, /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
  assert.notEqual(macOfA, await bed.mac('c'));
  const neighbours = await bed.neighbours('c');
  assert.equal(neighbours.find((entry) => entry.address === '198.18.0.1')?.mac, macOfA, `c's ARP entry for a: ${JSON.stringify(neighbours)}`);
  assert.equal(neighbours.find((entry) => entry.address === '2001:2::1')?.mac, macOfA, `c's NDP entry for a: ${JSON.stringify(neighbours)}`);
  assert.equal(neighbours.find((entry) => entry.address === '198.18.0.2'), undefined, 'c never talked to b');
});

test('netns bed: the bed\'s addresses exist only inside its namespaces', { skip }, async (t) => {
  // Goal: building a bed configures nothing in the namespace the tests run in.
  const bed = await NetnsBed.create({ hosts: HOSTS });
  t.after(() => bed.destroy());
  const inA = await bed.execOk('a', 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
  assert.match(inA.stdout, /"local":"198\.18\.0\.1"/, 'the address is configured in a');

  const leaked = (await rootAddresses()).filter((address) => BENCHMARKING.check(address.local, address.family === 'inet6' ? 'ipv6' : 'ipv4'));
  assert.deepEqual(leaked, [], 'no benchmarking address in the root namespace');
});

test('netns bed: destroy() kills its children, deletes every namespace, and is idempotent', { skip }, async () => {
  // Goal: after destroy() nothing of the bed is left, and calling it again is harmless.
  const exitListeners = process.listenerCount('exit');
  const bed = await NetnsBed.create({ hosts: HOSTS.slice(0, 2) });
  assert.deepEqual((await namespacesStartingWith(bed.namespacePrefix)).sort(), ['a', 'b', 'lan'].map((host) => `${bed.namespacePrefix}-${host}`));
  assert.equal(process.listenerCount('exit'), exitListeners + 1, 'a forgotten bed is destroyed on exit');
  const sleeper = bed.spawn('b', process.execPath, ['-e', 'console.log("listening"); setInterval(() => {}, 1000)'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForLine(sleeper, 'listening', READY_DEADLINE_MS);

  await bed.destroy();
  assert.equal(sleeper.signalCode, 'SIGKILL', 'the spawned child was killed');
  assert.deepEqual(await namespacesStartingWith(bed.namespacePrefix), []);
  assert.equal(process.listenerCount('exit'), exitListeners, 'the exit fallback is removed');
  await bed.destroy();
  assert.throws(() => bed.spawn('a', 'true', []), /destroyed/);
});

test('netns bed: a create that fails midway names the step and leaves no namespace behind', { skip }, async () => {
  // Goal: a broken bed never leaks namespaces, and its error says where it broke.
  const ours = `tandem-${process.pid}-`;
  const before = await namespacesStartingWith(ours);
  const exitListeners = process.listenerCount('exit');
  const hosts = [HOSTS[0]!, { name: 'b', ipv4: '198.18.0.999/24' }];

  await assert.rejects(NetnsBed.create({ hosts }), /step "add address 198\.18\.0\.999\/24 to eth0 of b" failed/);
  assert.deepEqual(await namespacesStartingWith(ours), before);
  assert.equal(process.listenerCount('exit'), exitListeners);

  await assert.rejects(NetnsBed.create({ hosts: [{ name: 'a', ipv4: '10.0.0.1/24' }] }), /not a CIDR inside 198\.18\.0\.0\/15/);
  await assert.rejects(NetnsBed.create({ hosts: [{ name: 'a', ipv4: '198.18.0.1/24', ipv6: '2001:db8::1/64' }] }), /not a CIDR inside 2001:2::\/48/);
  assert.deepEqual(await namespacesStartingWith(ours), before, 'addresses outside the ranges are refused before anything is built');
});

test('netns bed: sweepStaleBeds() deletes namespaces of dead processes only', { skip }, async (t) => {
  // Goal: a crashed run's bed is removed by the next run, a live process's bed is not.
  const exited = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  const deadPid = await new Promise<number>((resolve) => exited.on('exit', () => resolve(exited.pid!)));
  const stale = `tandem-${deadPid}-0badbed-a`;
  const live = `tandem-${process.pid}-0badbed-a`;
  t.after(async () => {
    for (const name of [stale, live]) await run('ip', ['netns', 'del', name]);
  });
  await runOk('ip', ['netns', 'add', stale]);
  await runOk('ip', ['netns', 'add', live]);

  const swept = await sweepStaleBeds();
  // Not `swept.includes(stale)`: a bed created by another test process at the same time
  // may sweep it first. Either way it must be gone, and the live one must stay.
  assert.ok(!swept.includes(live), `swept ${JSON.stringify(swept)}`);
  const left = await listNamespaces();
  assert.ok(!left.includes(stale), `${stale} is gone: ${JSON.stringify(left)}`);
  assert.ok(left.includes(live), `${live} stays`);
});
