// Tests of `tandem status`, `takeover`, `giveback` and `events` run as child processes against
// AdminServers in this process over a fake ClusterService, with a two-node configuration file
// whose admin endpoints point at them: output, --json, endpoint order and every exit code.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { closedPort, startFakeAdmin, TEST_SECRET, type FakeAdmin } from '../admin/admin-server-fixture.js';
import { GIVEBACK_EVENT, sampleStatus, TAKEOVER_EVENT } from '../admin/cluster-service-fixture.js';

const TANDEM_MAIN = fileURLToPath(new URL('./main.js', import.meta.url));
const TAKEOVER_LINE = 'takeover a: completed in 84 ms (check 2, negotiate 3, drain 40, release 25, claim 4, serve 10)';

interface Result {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `tandem ARGS` with TANDEM_CONFIG unset unless `env` sets it. */
function tandem(args: readonly string[], env: Record<string, string> = {}): Promise<Result> {
  const inherited = { ...process.env };
  delete inherited['TANDEM_CONFIG'];
  return new Promise((resolve) => {
    execFile(process.execPath, [TANDEM_MAIN, ...args], { env: { ...inherited, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : -1;
      resolve({ code, stdout, stderr });
    });
  });
}

/** A valid two-node configuration whose nodes' admin endpoints are 127.0.0.1:PORT. */
function configText(adminPortA: number, adminPortB: number): string {
  return `cluster:
  name: pair
  secret: ${TEST_SECRET}
  mailbox: ./mailbox
nodes:
  - { name: a, interconnect: "127.0.0.1:1", admin: "127.0.0.1:${adminPortA}", partner: b }
  - { name: b, interconnect: "127.0.0.1:2", admin: "127.0.0.1:${adminPortB}", partner: a }
filers:
  - { name: a, home: a, addresses: [127.0.0.11], volumes: [{ directory: ./volumes/a }] }
  - { name: b, home: b, addresses: [127.0.0.12], volumes: [{ directory: ./volumes/b }] }
`;
}

/** Runs `work` with a fake admin API as node a (node b's endpoint refuses) and a config file. */
async function withCluster(work: (admin: FakeAdmin, configFile: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-cli-'));
  const admin = await startFakeAdmin();
  try {
    const configFile = path.join(directory, 'tandem.yaml');
    await writeFile(configFile, configText(admin.port, await closedPort()));
    await work(admin, configFile);
  } finally {
    await admin.server.stop();
    await rm(directory, { recursive: true, force: true });
  }
}

test('tandem status --json prints the StatusReport exactly as the admin API returns it', async () => {
  // Goal: scripts get the API's JSON, and exit 0.
  await withCluster(async (_admin, configFile) => {
    const result = await tandem(['status', '--config', configFile, '--json']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(JSON.parse(result.stdout), sampleStatus());
  });
});

test('tandem status shows the nodes and filers tables and the last takeover with its phase timings', async () => {
  // Goal: an operator reads the pair's state at a glance.
  await withCluster(async (_admin, configFile) => {
    const result = await tandem(['status', '--config', configFile]);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0]!, /^cluster pair, as node b sees it at 2025-01-02T03:04:06\.000Z$/);
    assert.ok(lines.includes('NODE  UP   INTERCONNECT  LAST HEARD'), result.stdout);
    assert.ok(lines.includes('a     yes  up            12 ms ago'), result.stdout);
    assert.ok(lines.includes('b     yes  up            this node'), result.stdout);
    assert.ok(lines.some((line) => /^FILER\s+HOME\s+SERVED BY\s+STATE\s+EPOCH\s+PHASE\s+URLS$/.test(line)), result.stdout);
    assert.ok(lines.some((line) => /^a\s+a\s+b\s+taken-over\s+2\s+serving\s+nfs:\/\/127\.0\.0\.11\/a\?version=3&nfsport=20490&mountport=20490$/.test(line)), result.stdout);
    assert.ok(lines.some((line) => /^\s+nfs:\/\/127\.0\.0\.13\/b\?/.test(line)), 'a second URL continues the row');
    assert.ok(lines.includes(`last takeover:  ${TAKEOVER_LINE}, epoch 2, by node b at 2025-01-02T03:04:05.000Z`), result.stdout);
    assert.ok(lines.includes('last giveback:  none'), result.stdout);
  });
});

test('tandem takeover prints the outcome with its phase timings and exits 0 when it completed', async () => {
  // Goal: the operator sees how long each phase took.
  await withCluster(async (admin, configFile) => {
    admin.service.answer = () => ({ ok: true, event: TAKEOVER_EVENT });
    const result = await tandem(['takeover', 'a', '--config', configFile]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${TAKEOVER_LINE}, epoch 2\n`);
    assert.deepEqual(admin.service.calls, ['takeover a']);
  });
});

test('tandem takeover that is refused prints the reason and exits 1, in text and in JSON', async () => {
  // Goal: a refusal is a failure a script can see, with the node's reason.
  await withCluster(async (admin, configFile) => {
    const text = await tandem(['takeover', 'a', '--config', configFile]);
    assert.equal(text.code, 1);
    assert.match(text.stderr, /takeover a refused: filer a is already taken over/);
    const json = await tandem(['giveback', 'a', '--config', configFile, '--json']);
    assert.equal(json.code, 1);
    assert.deepEqual(JSON.parse(json.stdout), { ok: false, reason: 'filer a is already taken over' });
    assert.deepEqual(admin.service.calls, ['takeover a', 'giveback a']);
  });
});

test('tandem events prints one line per event, and --json the API\'s { events }', async () => {
  // Goal: the history reads line by line, oldest first.
  await withCluster(async (_admin, configFile) => {
    const text = await tandem(['events', '--config', configFile]);
    assert.equal(text.code, 0, text.stderr);
    assert.deepEqual(text.stdout.trimEnd().split('\n'), [
      `2025-01-02T03:04:05.000Z  b  ${TAKEOVER_LINE}, epoch 2`,
      '2025-01-02T03:05:05.000Z  a  giveback a: completed in 65 ms (check 1, negotiate 2, drain 30, release 20, claim 3, serve 9), epoch 3',
    ]);
    const json = await tandem(['events', '--config', configFile, '--json']);
    assert.deepEqual(JSON.parse(json.stdout), { events: [TAKEOVER_EVENT, GIVEBACK_EVENT] });
  });
});

test('tandem status exits 3 naming every endpoint when no node answers', async () => {
  // Goal: "nobody answered" is its own exit code, and says where the command looked.
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-cli-'));
  try {
    const ports = [await closedPort(), await closedPort()];
    const configFile = path.join(directory, 'tandem.yaml');
    await writeFile(configFile, configText(ports[0]!, ports[1]!));
    const result = await tandem(['status', '--config', configFile]);
    assert.equal(result.code, 3);
    for (const port of ports) assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});

test('tandem status exits 1 with the node\'s answer when the node refuses the token', async () => {
  // Goal: a node that answered with an error is reported as a failure (not "nobody answered"), and its partner is not asked.
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-cli-'));
  const otherCluster = await startFakeAdmin({ token: 'f'.repeat(64) });
  const partner = await startFakeAdmin();
  try {
    const configFile = path.join(directory, 'tandem.yaml');
    await writeFile(configFile, configText(otherCluster.port, partner.port));
    const result = await tandem(['status', '--config', configFile]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, new RegExp(`127\\.0\\.0\\.1:${otherCluster.port} answered 401: unauthorized`));
    assert.deepEqual(partner.service.calls, []);
  } finally {
    await otherCluster.server.stop();
    await partner.server.stop();
    await rm(directory, { recursive: true, force: true });
  }
});

test('tandem status without --config or TANDEM_CONFIG is a usage error saying so', async () => {
  // Goal: the operator learns both ways to name the configuration, and the exit code is 2.
  const result = await tandem(['status']);
  assert.equal(result.code, 2);
  assert.match(result.stderr, /no configuration: give --config FILE or set TANDEM_CONFIG/);
});

test('tandem status reads TANDEM_CONFIG, and --node asks that node first', async () => {
  // Goal: the configuration can come from the environment, and --node changes who answers.
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-cli-'));
  const nodeA = await startFakeAdmin();
  const nodeB = await startFakeAdmin();
  try {
    nodeA.service.statusReport = { ...sampleStatus(), node: 'a' };
    const configFile = path.join(directory, 'tandem.yaml');
    await writeFile(configFile, configText(nodeA.port, nodeB.port));
    const byDefault = await tandem(['status', '--json'], { TANDEM_CONFIG: configFile });
    assert.equal(byDefault.code, 0, byDefault.stderr);
    assert.equal(JSON.parse(byDefault.stdout).node, 'a');
    const fromB = await tandem(['status', '--json', '--node', 'b'], { TANDEM_CONFIG: configFile });
    assert.equal(JSON.parse(fromB.stdout).node, 'b');
    assert.deepEqual([nodeA.service.calls, nodeB.service.calls], [['status'], ['status']]);
    const unknown = await tandem(['status', '--node', 'c'], { TANDEM_CONFIG: configFile });
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /--node "c": no such node .* \(nodes: a, b\)/);
  } finally {
    await nodeA.server.stop();
    await nodeB.server.stop();
    await rm(directory, { recursive: true, force: true });
  }
});

test('tandem takeover without FILER is a usage error, and every cluster command has --help', async () => {
  // Goal: usage mistakes exit 2, and each command documents itself.
  const missing = await tandem(['takeover', '--config', 'unused.yaml']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /takeover: FILER is missing/);
  for (const command of ['status', 'takeover', 'giveback', 'events']) {
    const help = await tandem([command, '--help']);
    assert.equal(help.code, 0, command);
    assert.match(help.stdout, new RegExp(`^usage: tandem ${command}`), command);
    assert.match(help.stdout, /--config FILE/);
  }
  const overview = await tandem(['--help']);
  for (const command of ['status', 'takeover', 'giveback', 'events']) assert.match(overview.stdout, new RegExp(`\\n  ${command} `));
});
