// Tests of the cluster configuration: defaults, every validation rule with the key it names,
// the secret inline or from a file, path resolution and the lookup helpers.

import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { stringify } from 'yaml';
import {
  CLIENTS_DEFAULT,
  ConfigError,
  DRAIN_DEADLINE_MS_DEFAULT,
  FILER_PORT_DEFAULT,
  HEARTBEAT_INTERVAL_MS_DEFAULT,
  HEARTBEAT_INTERVAL_MS_MAX,
  loadConfig,
  OPERATION_DEADLINE_MS_DEFAULT,
  parseConfig,
  PEER_TIMEOUT_MS_DEFAULT,
} from './config.js';

const BASE = '/srv/cluster';
const SECRET = 'an inline secret of at least 32 characters';

/** A configuration as YAML would hold it: loosely typed, since the tests break it on purpose. */
type Tree = any;

function minimal(): Tree {
  return {
    cluster: { name: 'demo', secret: SECRET, mailbox: './mailbox' },
    nodes: [
      { name: 'a', interconnect: '127.0.0.1:31001', admin: '127.0.0.1:31101', partner: 'b' },
      { name: 'b', interconnect: '127.0.0.1:31002', admin: '127.0.0.1:31102', partner: 'a' },
    ],
    filers: [
      { name: 'a', home: 'a', addresses: ['127.0.0.11'], volumes: [{ directory: './volumes/a' }] },
      { name: 'b', home: 'b', addresses: ['127.0.0.12'], volumes: [{ directory: './volumes/b' }] },
    ],
  };
}

const parse = (tree: Tree, base = BASE) => parseConfig(stringify(tree), base);

/** The ConfigError that parsing `tree` raises. */
function refusal(tree: Tree, base = BASE): ConfigError {
  try {
    parse(tree, base);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail('the configuration was accepted');
}

async function withDirectory<T>(work: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-config-'));
  try {
    return await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('config: a minimal valid configuration parses with every default filled in', () => {
  // Goal: what the file leaves out takes the documented defaults, and paths come out absolute.
  const config = parse(minimal());
  assert.equal(config.name, 'demo');
  assert.deepEqual(config.secret, Buffer.from(SECRET));
  assert.equal(config.secretFile, undefined);
  assert.equal(config.mailbox, '/srv/cluster/mailbox');
  assert.deepEqual(config.nodes[0], { name: 'a', interconnect: { host: '127.0.0.1', port: 31001 }, admin: { host: '127.0.0.1', port: 31101 }, partner: 'b', mailbox: undefined, interface: undefined });
  assert.deepEqual(config.timing, {
    heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS_DEFAULT,
    peerTimeoutMs: PEER_TIMEOUT_MS_DEFAULT,
    drainDeadlineMs: DRAIN_DEADLINE_MS_DEFAULT,
    operationDeadlineMs: OPERATION_DEADLINE_MS_DEFAULT,
    leaseMs: 1000, leaseRenewMs: 333, leaseMarginMs: 250, stopGraceMs: 200, addressCheckMs: 25,
  });
  assert.deepEqual(config.autoGiveback, { enabled: false, delayMs: 30_000, attemptsMax: 3, windowMs: 3_600_000 });
  assert.equal(config.health, undefined);
  const filer = config.filers[0]!;
  assert.equal(filer.port, FILER_PORT_DEFAULT);
  assert.deepEqual(filer.addresses, ['127.0.0.11']);
  assert.deepEqual(filer.serviceAddresses, [{ address: '127.0.0.11', prefixLength: 32 }]);
  const volume = filer.volumes[0]!;
  assert.equal(volume.directory, '/srv/cluster/volumes/a');
  assert.equal('path' in volume, false, 'the export path defaults to /<volume name>, known when the volume opens');
  assert.equal(volume.clients, CLIENTS_DEFAULT);
  assert.deepEqual(volume.rules.map((rule) => [rule.match.kind, rule.access, rule.squash]), [['any', 'rw', 'root']]);

  assert.equal(config.addressBackend, 'loopback');
  assert.equal(config.log.level, 'info');
  assert.deepEqual(config.warnings, []);
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.filers) && Object.isFrozen(filer.volumes));
});

test('config: every value given explicitly is taken as written', () => {
  // Goal: explicit settings win over defaults; IPv6 addresses come out canonical; exports normalized.
  const tree = minimal();
  tree.nodes[0].interconnect = '[::1]:31001';
  tree.nodes[1].admin = '[0:0:0:0:0:0:0:1]:31102';
  tree.filers[0].addresses = ['198.18.0.11/24', '2001:2:0:0::11/64'];
  tree.filers[1].addresses = ['198.18.0.12'];
  tree.nodes[0].interface = 'eth0';
  tree.nodes[1].interface = 'ens3.100';
  tree.filers[0].port = 2049;
  tree.filers[0].volumes[0] = { directory: '/data/a', export: '//projects/a/', clients: '10.0.0.0/8(rw,no_root_squash) *(ro)' };
  tree.timing = {
    heartbeatIntervalMs: 50, peerTimeoutMs: 150, drainDeadlineMs: 500, operationDeadlineMs: 501,
    leaseMs: 2000, leaseRenewMs: 500, leaseMarginMs: 400, stopGraceMs: 300, addressCheckMs: 20,
  };
  tree.autoGiveback = { enabled: true, delayMs: 5000, attemptsMax: 2, windowMs: 60_000 };
  tree.health = { command: 'test -d /srv', intervalMs: 1000, timeoutMs: 500, failures: 2 };
  tree.nodes[1].mailbox = '/mnt/mailbox';
  tree.addressBackend = 'linux';
  tree.log = { level: 'debug' };
  const config = parse(tree);
  assert.deepEqual(config.nodes[0]!.interconnect, { host: '::1', port: 31001 });
  assert.deepEqual(config.nodes[1]!.admin, { host: '::1', port: 31102 });
  assert.deepEqual(config.filers[0]!.addresses, ['198.18.0.11', '2001:2::11']);
  assert.deepEqual(config.filers[0]!.serviceAddresses, [{ address: '198.18.0.11', prefixLength: 24 }, { address: '2001:2::11', prefixLength: 64 }]);
  assert.deepEqual(config.filers[1]!.serviceAddresses, [{ address: '198.18.0.12', prefixLength: 32 }]);
  assert.deepEqual(config.nodes.map((node) => node.interface), ['eth0', 'ens3.100']);
  assert.equal(config.filers[0]!.port, 2049);
  const volume = config.filers[0]!.volumes[0]!;
  assert.equal(volume.directory, '/data/a');
  assert.equal(volume.path, '/projects/a');
  assert.deepEqual(volume.rules.map((rule) => [rule.spec, rule.access, rule.squash]), [['10.0.0.0/8(rw,no_root_squash)', 'rw', 'none'], ['*(ro)', 'ro', 'root']]);
  assert.deepEqual(config.timing, {
    heartbeatIntervalMs: 50, peerTimeoutMs: 150, drainDeadlineMs: 500, operationDeadlineMs: 501,
    leaseMs: 2000, leaseRenewMs: 500, leaseMarginMs: 400, stopGraceMs: 300, addressCheckMs: 20,
  });
  assert.deepEqual(config.autoGiveback, { enabled: true, delayMs: 5000, attemptsMax: 2, windowMs: 60_000 });
  assert.deepEqual(config.health, { command: 'test -d /srv', intervalMs: 1000, timeoutMs: 500, failures: 2 });
  assert.equal(config.nodes[1]!.mailbox, '/mnt/mailbox');
  assert.equal(config.addressBackend, 'linux');
  assert.equal(config.log.level, 'debug');
});

test('config: the linux address backend accepts addresses outside loopback', () => {
  // Goal: the loopback restriction belongs to the loopback backend only.
  const tree = minimal();
  tree.addressBackend = 'linux';
  tree.nodes[0].interface = 'eth0';
  tree.nodes[1].interface = 'eth0';
  tree.filers[0].addresses = ['192.0.2.10', '2001:db8::10'];
  tree.filers[1].addresses = ['192.0.2.11/24'];
  assert.deepEqual(parse(tree).filers[0]!.addresses, ['192.0.2.10', '2001:db8::10']);
});

test('config: two filers may share an address on different ports', () => {
  // Goal: a listener is an address and a port; only the pair must be unique.
  const tree = minimal();
  tree.filers[1].addresses = ['127.0.0.11'];
  tree.filers[1].port = 20491;
  assert.equal(parse(tree).filers[1]!.port, 20491);
});

/** Each row: what to break, the key the error must name, and words from its problem. */
const REFUSALS: readonly { readonly why: string; readonly change: (tree: Tree) => void; readonly key: string; readonly problem: RegExp }[] = [
  { why: 'a top-level key is misspelled', change: (t) => { t.timeing = {}; }, key: 'timeing', problem: /unknown key \(known here: cluster, nodes, filers, timing, autoGiveback, health, addressBackend, log\)/ },
  { why: 'the lease margin does not cover the stop grace and clock drift', change: (t) => { t.timing = { leaseMarginMs: 100 }; }, key: 'timing.leaseMarginMs', problem: /100 is less than stopGraceMs \+ 2% of leaseMs \(220\)/ },
  { why: 'the lease is renewed no more often than it lasts', change: (t) => { t.timing = { leaseMs: 500, leaseRenewMs: 500, leaseMarginMs: 300 }; }, key: 'timing.leaseRenewMs', problem: /500 must be less than leaseMs \(500\)/ },
  { why: 'autoGiveback.enabled is not a boolean', change: (t) => { t.autoGiveback = { enabled: 'yes' }; }, key: 'autoGiveback.enabled', problem: /expected true or false/ },
  { why: 'a health check has no command', change: (t) => { t.health = { intervalMs: 1000 }; }, key: 'health.command', problem: /missing/ },
  { why: 'a cluster key is misspelled', change: (t) => { t.cluster.mailbx = './m'; }, key: 'cluster.mailbx', problem: /unknown key/ },
  { why: 'a node key is misspelled', change: (t) => { t.nodes[0].partnr = 'b'; }, key: 'nodes[0].partnr', problem: /unknown key/ },
  { why: 'a volume key is misspelled', change: (t) => { t.filers[0].volumes[0].exprot = '/a'; }, key: 'filers[0].volumes[0].exprot', problem: /unknown key/ },
  { why: 'the cluster section is missing', change: (t) => { delete t.cluster; }, key: 'cluster', problem: /^missing$/ },
  { why: 'the cluster section is a list', change: (t) => { t.cluster = []; }, key: 'cluster', problem: /expected a mapping, found a list/ },
  { why: 'the cluster name has a space', change: (t) => { t.cluster.name = 'my cluster'; }, key: 'cluster.name', problem: /is not a name/ },
  { why: 'the cluster name is a number', change: (t) => { t.cluster.name = 7; }, key: 'cluster.name', problem: /expected a string, found number 7/ },
  { why: 'the mailbox is missing', change: (t) => { delete t.cluster.mailbox; }, key: 'cluster.mailbox', problem: /^missing$/ },
  { why: 'the mailbox is empty', change: (t) => { t.cluster.mailbox = ''; }, key: 'cluster.mailbox', problem: /is empty/ },
  { why: 'nodes is not a list', change: (t) => { t.nodes = { a: 1 }; }, key: 'nodes', problem: /expected a list/ },
  { why: 'there is one node only', change: (t) => { t.nodes = [t.nodes[0]]; }, key: 'nodes', problem: /has 1 entries; at least 2/ },
  { why: 'a node has no name', change: (t) => { t.nodes[0].name = null; }, key: 'nodes[0].name', problem: /has no value/ },
  { why: 'an interconnect has no port', change: (t) => { t.nodes[1].interconnect = '127.0.0.1'; }, key: 'nodes[1].interconnect', problem: /^"127\.0\.0\.1" is not HOST:PORT$/ },
  { why: 'an IPv6 interconnect lacks brackets', change: (t) => { t.nodes[0].interconnect = '::1:31001'; }, key: 'nodes[0].interconnect', problem: /is not HOST:PORT/ },
  { why: 'an admin endpoint names a host', change: (t) => { t.nodes[0].admin = 'localhost:31101'; }, key: 'nodes[0].admin', problem: /HOST must be an IPv4 address or an IPv6 address in brackets/ },
  { why: 'an admin port is out of range', change: (t) => { t.nodes[0].admin = '127.0.0.1:70000'; }, key: 'nodes[0].admin', problem: /the port must be 1 to 65535/ },
  { why: 'an admin port is zero', change: (t) => { t.nodes[0].admin = '127.0.0.1:0'; }, key: 'nodes[0].admin', problem: /the port must be 1 to 65535/ },
  { why: 'an interconnect is the unspecified address', change: (t) => { t.nodes[0].interconnect = '0.0.0.0:31001'; }, key: 'nodes[0].interconnect', problem: /unspecified/ },
  { why: 'two nodes share a name', change: (t) => { t.nodes[1].name = 'a'; }, key: 'nodes[1].name', problem: /node name "a" is also used by nodes\[0\]\.name/ },
  { why: 'a partner does not exist', change: (t) => { t.nodes[0].partner = 'c'; }, key: 'nodes[0].partner', problem: /^no node named "c"$/ },
  { why: 'a node is its own partner', change: (t) => { t.nodes[0].partner = 'a'; }, key: 'nodes[0].partner', problem: /cannot be its own partner/ },
  {
    why: 'partners are not mutual',
    change: (t) => { t.nodes.push({ name: 'c', interconnect: '127.0.0.1:31003', admin: '127.0.0.1:31103', partner: 'a' }); },
    key: 'nodes[2].partner',
    problem: /partners are mutual, but node "a" names "b" as its partner, not "c"/,
  },
  { why: 'two nodes share an admin endpoint', change: (t) => { t.nodes[1].admin = '127.0.0.1:31101'; }, key: 'nodes[1].admin', problem: /127\.0\.0\.1:31101 is also nodes\[0\]\.admin/ },
  { why: 'an interconnect is another node\'s admin endpoint', change: (t) => { t.nodes[1].interconnect = '127.0.0.1:31101'; }, key: 'nodes[1].interconnect', problem: /is also nodes\[0\]\.admin/ },
  { why: 'a node uses one endpoint twice', change: (t) => { t.nodes[0].admin = '127.0.0.1:31001'; }, key: 'nodes[0].admin', problem: /is also nodes\[0\]\.interconnect/ },
  { why: 'there are no filers', change: (t) => { t.filers = []; }, key: 'filers', problem: /at least 1/ },
  { why: 'a filer has no home', change: (t) => { delete t.filers[0].home; }, key: 'filers[0].home', problem: /^missing$/ },
  { why: 'a filer\'s home does not exist', change: (t) => { t.filers[0].home = 'c'; }, key: 'filers[0].home', problem: /^no node named "c"$/ },
  { why: 'two filers share a name', change: (t) => { t.filers[1].name = 'a'; }, key: 'filers[1].name', problem: /filer name "a" is also used by filers\[0\]\.name/ },
  { why: 'a filer name has a slash', change: (t) => { t.filers[0].name = '../a'; }, key: 'filers[0].name', problem: /is not a name/ },
  { why: 'a filer has no addresses', change: (t) => { t.filers[0].addresses = []; }, key: 'filers[0].addresses', problem: /at least 1/ },
  { why: 'an address is a single string, not a list', change: (t) => { t.filers[0].addresses = '127.0.0.11'; }, key: 'filers[0].addresses', problem: /expected a list/ },
  { why: 'an address is not an IP address', change: (t) => { t.filers[0].addresses = ['127.0.0.300']; }, key: 'filers[0].addresses[0]', problem: /is not an IPv4 or IPv6 address/ },
  { why: 'an address is a host name', change: (t) => { t.filers[0].addresses = ['filer-a']; }, key: 'filers[0].addresses[0]', problem: /is not an IPv4 or IPv6 address/ },
  { why: 'an address is a number', change: (t) => { t.filers[0].addresses = [12]; }, key: 'filers[0].addresses[0]', problem: /expected an IP address, found number 12/ },
  { why: 'an address is unspecified', change: (t) => { t.filers[0].addresses = ['::']; }, key: 'filers[0].addresses[0]', problem: /unspecified/ },
  { why: 'the loopback backend meets a LAN address', change: (t) => { t.filers[0].addresses = ['127.0.0.11', '10.0.0.5']; }, key: 'filers[0].addresses[1]', problem: /10\.0\.0\.5 is not a loopback address/ },
  { why: 'the loopback backend meets a global IPv6 address', change: (t) => { t.filers[0].addresses = ['2001:db8::1']; }, key: 'filers[0].addresses[0]', problem: /not a loopback address/ },
  { why: 'two filers share an address and port', change: (t) => { t.filers[1].addresses = ['127.0.0.11']; }, key: 'filers[1].addresses[0]', problem: /127\.0\.0\.11:20490 is also filers\[0\]\.addresses\[0\]/ },
  { why: 'a filer lists an address twice', change: (t) => { t.filers[0].addresses = ['::1', '0::1']; }, key: 'filers[0].addresses[1]', problem: /\[::1\]:20490 is also filers\[0\]\.addresses\[0\]/ },
  { why: 'a filer listens on a node endpoint', change: (t) => { t.filers[0].addresses = ['127.0.0.1']; t.filers[0].port = 31101; }, key: 'filers[0].addresses[0]', problem: /is also nodes\[0\]\.admin/ },
  { why: 'a filer port is zero', change: (t) => { t.filers[0].port = 0; }, key: 'filers[0].port', problem: /0 is out of range \(1 to 65535\)/ },
  { why: 'a filer port is a string', change: (t) => { t.filers[0].port = '20490'; }, key: 'filers[0].port', problem: /expected an integer, found "20490"/ },
  { why: 'a filer has no volumes', change: (t) => { t.filers[0].volumes = []; }, key: 'filers[0].volumes', problem: /at least 1/ },
  { why: 'a volume has no directory', change: (t) => { t.filers[0].volumes[0] = { export: '/a' }; }, key: 'filers[0].volumes[0].directory', problem: /^missing$/ },
  { why: 'two filers share a volume', change: (t) => { t.filers[1].volumes[0].directory = 'volumes/a'; }, key: 'filers[1].volumes[0].directory', problem: /\/srv\/cluster\/volumes\/a is also filers\[0\]\.volumes\[0\]\.directory/ },
  { why: 'a volume is the mailbox', change: (t) => { t.filers[0].volumes[0].directory = 'mailbox/'; }, key: 'filers[0].volumes[0].directory', problem: /is also cluster\.mailbox/ },
  { why: 'an export does not start with a slash', change: (t) => { t.filers[0].volumes[0].export = 'a'; }, key: 'filers[0].volumes[0].export', problem: /does not start with "\/"/ },
  { why: 'an export climbs out', change: (t) => { t.filers[0].volumes[0].export = '/a/../b'; }, key: 'filers[0].volumes[0].export', problem: /"\." or "\.\." component/ },
  { why: 'an export is longer than MNTPATHLEN', change: (t) => { t.filers[0].volumes[0].export = '/' + 'x'.repeat(1024); }, key: 'filers[0].volumes[0].export', problem: /longer than 1024 bytes/ },
  {
    why: 'two volumes of a filer share an export',
    change: (t) => { t.filers[0].volumes = [{ directory: 'v1', export: '/x' }, { directory: 'v2', export: '/x/' }]; },
    key: 'filers[0].volumes[1].export',
    problem: /export path "\/x" is also used by filers\[0\]\.volumes\[0\]\.export/,
  },
  { why: 'a client rule has an unknown option', change: (t) => { t.filers[0].volumes[0].clients = '*(rw,bogus)'; }, key: 'filers[0].volumes[0].clients', problem: /unknown option "bogus"/ },
  { why: 'a client rule has a bad network', change: (t) => { t.filers[0].volumes[0].clients = '10.0.0.0/33(rw)'; }, key: 'filers[0].volumes[0].clients', problem: /prefix "\/33" must be 0 to 32/ },
  { why: 'timing is a number', change: (t) => { t.timing = 5; }, key: 'timing', problem: /expected a mapping/ },
  { why: 'a timing key is misspelled', change: (t) => { t.timing = { heartbeatMs: 100 }; }, key: 'timing.heartbeatMs', problem: /unknown key/ },
  { why: 'a heartbeat interval is zero', change: (t) => { t.timing = { heartbeatIntervalMs: 0 }; }, key: 'timing.heartbeatIntervalMs', problem: /0 is out of range/ },
  { why: 'a heartbeat interval is fractional', change: (t) => { t.timing = { heartbeatIntervalMs: 1.5 }; }, key: 'timing.heartbeatIntervalMs', problem: /expected an integer/ },
  { why: 'a heartbeat interval is too long', change: (t) => { t.timing = { heartbeatIntervalMs: HEARTBEAT_INTERVAL_MS_MAX + 1, peerTimeoutMs: 100_000 }; }, key: 'timing.heartbeatIntervalMs', problem: /out of range \(1 to 10000\)/ },
  { why: 'a peer timeout is negative', change: (t) => { t.timing = { peerTimeoutMs: -1 }; }, key: 'timing.peerTimeoutMs', problem: /out of range/ },
  { why: 'a drain deadline is a string', change: (t) => { t.timing = { drainDeadlineMs: '2s' }; }, key: 'timing.drainDeadlineMs', problem: /expected an integer, found "2s"/ },
  { why: 'an operation deadline is too long', change: (t) => { t.timing = { operationDeadlineMs: 3_600_001 }; }, key: 'timing.operationDeadlineMs', problem: /out of range/ },
  { why: 'the peer timeout is under three heartbeats', change: (t) => { t.timing = { heartbeatIntervalMs: 100, peerTimeoutMs: 250 }; }, key: 'timing.peerTimeoutMs', problem: /250 is less than 3 heartbeat intervals \(300 ms\)/ },
  { why: 'the default peer timeout is under three heartbeats', change: (t) => { t.timing = { heartbeatIntervalMs: 400 }; }, key: 'timing.peerTimeoutMs', problem: /1000 is less than 3 heartbeat intervals/ },
  { why: 'the operation deadline is within the drain', change: (t) => { t.timing = { drainDeadlineMs: 10_000 }; }, key: 'timing.operationDeadlineMs', problem: /10000 must be greater than drainDeadlineMs \(10000\)/ },
  { why: 'an address has an empty prefix', change: (t) => { t.filers[0].addresses = ['127.0.0.11/']; }, key: 'filers[0].addresses[0]', problem: /"" is not a prefix length from 1 to 32/ },
  { why: 'an IPv4 prefix is longer than 32', change: (t) => { t.filers[0].addresses = ['127.0.0.11/33']; }, key: 'filers[0].addresses[0]', problem: /"33" is not a prefix length from 1 to 32/ },
  { why: 'an IPv6 prefix is not a number', change: (t) => { t.filers[0].addresses = ['::1/sixty']; }, key: 'filers[0].addresses[0]', problem: /"sixty" is not a prefix length from 1 to 128/ },
  { why: 'the linux backend has no interface for a node', change: (t) => { t.addressBackend = 'linux'; t.nodes[0].interface = 'eth0'; t.filers[0].addresses = ['198.18.0.11/24']; t.filers[1].addresses = ['198.18.0.12/24']; }, key: 'nodes[1].interface', problem: /missing: addressBackend "linux" adds/ },
  { why: 'the linux backend meets a loopback address', change: (t) => { t.addressBackend = 'linux'; t.nodes[0].interface = 'eth0'; t.nodes[1].interface = 'eth0'; }, key: 'filers[0].addresses[0]', problem: /127\.0\.0\.11 is a loopback address, which cannot move between hosts/ },
  { why: 'an interface name is too long', change: (t) => { t.addressBackend = 'linux'; t.nodes[0].interface = 'a-very-long-interface'; }, key: 'nodes[0].interface', problem: /is not a Linux interface name/ },
  { why: 'an interface name has a slash', change: (t) => { t.addressBackend = 'linux'; t.nodes[0].interface = '../eth0'; }, key: 'nodes[0].interface', problem: /is not a Linux interface name/ },
  { why: 'the loopback backend is given an interface', change: (t) => { t.nodes[0].interface = 'eth0'; }, key: 'nodes[0].interface', problem: /only addressBackend "linux" uses an interface/ },
  { why: 'the address check is shorter than 10 ms', change: (t) => { t.timing = { addressCheckMs: 5 }; }, key: 'timing.addressCheckMs', problem: /5 is out of range \(10 to 10000\)/ },
  { why: 'the address backend is unknown', change: (t) => { t.addressBackend = 'bsd'; }, key: 'addressBackend', problem: /"bsd" is not one of loopback, linux/ },
  { why: 'the log level is unknown', change: (t) => { t.log = { level: 'loud' }; }, key: 'log.level', problem: /"loud" is not one of fatal, error, warn, info, debug, trace, silent/ },
  { why: 'a log key is misspelled', change: (t) => { t.log = { levle: 'info' }; }, key: 'log.levle', problem: /unknown key/ },
];

for (const row of REFUSALS) {
  test(`config: refused, naming ${row.key}, when ${row.why}`, () => {
    // Goal: this rule can fail, and its message names the key and the problem.
    const tree = minimal();
    row.change(tree);
    const error = refusal(tree);
    assert.equal(error.key, row.key, error.message);
    assert.match(error.problem, row.problem);
    assert.equal(error.message, `${row.key}: ${error.problem}`);
  });
}

test('config: YAML that is not a mapping, does not parse, or repeats a key is refused', () => {
  // Goal: the file's syntax is checked before its meaning, with the line named.
  assert.match(refusal([1, 2]).message, /^expected a mapping with the keys cluster, nodes, filers, timing, autoGiveback, health, addressBackend, log, found a list$/);
  assert.throws(() => parseConfig('', BASE), /expected a mapping .* found nothing/);
  assert.throws(() => parseConfig('cluster: [a\n', BASE), (error) => error instanceof ConfigError && /^not valid YAML: .*line \d+/.test(error.message));
  assert.throws(() => parseConfig('cluster: {}\ncluster: {}\n', BASE), /not valid YAML: Map keys must be unique at line 2, column 1$/);
});

test('config: the secret is refused when given both inline and as a file, or not at all', () => {
  // Goal: exactly one source of the secret, and the message says which keys to use.
  const both = minimal();
  both.cluster.secretFile = './secret';
  const error = refusal(both);
  assert.equal(error.message, 'cluster.secretFile: give either cluster.secret or cluster.secretFile, not both');
  const neither = minimal();
  delete neither.cluster.secret;
  assert.equal(refusal(neither).message, 'cluster.secret: missing: give cluster.secret (inline) or cluster.secretFile (a path)');
});

test('config: a short secret is refused, inline or from a file', async () => {
  // Goal: a secret under 32 bytes never keys the interconnect.
  const short = minimal();
  short.cluster.secret = 'x'.repeat(31);
  assert.equal(refusal(short).message, 'cluster.secret: the secret has 31 bytes; it needs at least 32');
  await withDirectory(async (directory) => {
    await writeFile(path.join(directory, 'secret'), `${'y'.repeat(31)}\n`, { mode: 0o600 });
    const tree = minimal();
    delete tree.cluster.secret;
    tree.cluster.secretFile = 'secret';
    assert.equal(refusal(tree, directory).message, 'cluster.secretFile: the secret has 31 bytes; it needs at least 32');
  });
});

test('config: a secret file is read relative to the configuration, less its trailing newline', async () => {
  // Goal: secretFile resolves against the config's folder; the secret is the file's bytes.
  await withDirectory(async (directory) => {
    const secret = 'f'.repeat(64);
    await writeFile(path.join(directory, 'key'), `${secret}\n`, { mode: 0o600 });
    await chmod(path.join(directory, 'key'), 0o600);
    const tree = minimal();
    delete tree.cluster.secret;
    tree.cluster.secretFile = 'key';
    const config = parse(tree, directory);
    assert.deepEqual(config.secret, Buffer.from(secret));
    assert.equal(config.secretFile, path.join(directory, 'key'));
    assert.deepEqual(config.warnings, []);
  });
});

test('config: a secret file others can read is a warning, not an error; a missing one is an error', async () => {
  // Goal: a loose mode is reported where an operator sees it; an absent file stops the node.
  await withDirectory(async (directory) => {
    const file = path.join(directory, 'key');
    await writeFile(file, 'z'.repeat(40));
    await chmod(file, 0o644);
    const tree = minimal();
    delete tree.cluster.secret;
    tree.cluster.secretFile = file;
    const config = parse(tree, directory);
    assert.deepEqual(config.warnings, [`cluster.secretFile: ${file} is accessible to group or others (mode 0644); chmod 600 it`]);
    tree.cluster.secretFile = 'absent';
    const error = refusal(tree, directory);
    assert.equal(error.key, 'cluster.secretFile');
    assert.match(error.problem, /cannot read .*absent: ENOENT/);
  });
});

test('config: relative paths resolve against the base directory and absolute ones stay', () => {
  // Goal: the same file works from any working directory.
  const tree = minimal();
  tree.cluster.mailbox = '../shared/mailbox';
  tree.filers[0].volumes[0].directory = '/mnt/volumes/a';
  tree.filers[1].volumes[0].directory = 'volumes/./b/';
  const config = parse(tree, '/etc/tandem');
  assert.equal(config.baseDirectory, '/etc/tandem');
  assert.equal(config.mailbox, '/etc/shared/mailbox');
  assert.equal(config.filers[0]!.volumes[0]!.directory, '/mnt/volumes/a');
  assert.equal(config.filers[1]!.volumes[0]!.directory, '/etc/tandem/volumes/b');
});

test('config: loadConfig reads a file, resolves against its folder and names it in errors', async () => {
  // Goal: the file's folder is the base, and an operator sees which file is wrong.
  await withDirectory(async (directory) => {
    const file = path.join(directory, 'tandem.yaml');
    await writeFile(file, stringify(minimal()));
    const config = await loadConfig(file);
    assert.equal(config.mailbox, path.join(directory, 'mailbox'));
    const broken = minimal();
    broken.nodes[1].interconnect = '127.0.0.1';
    await writeFile(file, stringify(broken));
    await assert.rejects(loadConfig(file), (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.message, `${file}: nodes[1].interconnect: "127.0.0.1" is not HOST:PORT`);
      assert.equal(error.file, file);
      return true;
    });
    await assert.rejects(loadConfig(path.join(directory, 'absent.yaml')), /absent\.yaml: cannot read it: ENOENT/);
  });
});

test('config: the helpers find nodes, filers, the filers homed at a node and a node\'s partner', () => {
  // Goal: the runtime can answer "who am I, what do I serve, who takes over" from the config.
  const tree = minimal();
  tree.filers.push({ name: 'c', home: 'a', addresses: ['127.0.0.13'], volumes: [{ directory: 'volumes/c' }] });
  const config = parse(tree);
  assert.equal(config.nodeNamed('b')?.interconnect.port, 31002);
  assert.equal(config.nodeNamed('z'), undefined);
  assert.equal(config.filerNamed('c')?.home, 'a');
  assert.equal(config.filerNamed('z'), undefined);
  assert.deepEqual(config.filersHomedAt('a').map((filer) => filer.name), ['a', 'c']);
  assert.deepEqual(config.filersHomedAt('b').map((filer) => filer.name), ['b']);
  assert.deepEqual(config.filersHomedAt('z'), []);
  assert.equal(config.partnerOf('a').name, 'b');
  assert.equal(config.partnerOf('b').name, 'a');
  assert.throws(() => config.partnerOf('z'), /no node named "z"/);
});
