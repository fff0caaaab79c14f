// Tests of the admin client against real AdminServers over a fake ClusterService: the reports
// round-trip, and the endpoint fallback moves on only when a node does not answer.

import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { AdminClient, AdminError } from './admin-client.js';
import { closedPort, startFakeAdmin, TEST_TOKEN } from './admin-server-fixture.js';
import { GIVEBACK_EVENT, sampleStatus, TAKEOVER_EVENT } from './cluster-service-fixture.js';

const at = (port: number) => ({ host: '127.0.0.1', port });
const client = (ports: readonly number[], timeoutMs = 2_000) => new AdminClient({ endpoints: ports.map(at), token: TEST_TOKEN, timeoutMs });

test('admin client: status, events and commands come back as the service reported them', async () => {
  // Goal: the client is a faithful ClusterService over HTTP, refusals included.
  const admin = await startFakeAdmin();
  try {
    const remote = client([admin.port]);
    assert.deepEqual(await remote.status(), sampleStatus());
    assert.deepEqual(await remote.events(), [TAKEOVER_EVENT, GIVEBACK_EVENT]);
    assert.deepEqual(await remote.command('takeover', 'a'), { ok: false, reason: 'filer a is already taken over' });
    admin.service.answer = () => ({ ok: true, event: GIVEBACK_EVENT });
    assert.deepEqual(await remote.command('giveback', 'a'), { ok: true, event: GIVEBACK_EVENT });
    assert.deepEqual(admin.service.calls, ['status', 'events', 'takeover a', 'giveback a']);
  } finally {
    await admin.server.stop();
  }
});

test('admin client: when the first endpoint refuses connections, the second answers', async () => {
  // Goal: a node that is down does not stop the operator from reaching its partner.
  const admin = await startFakeAdmin();
  try {
    assert.deepEqual(await client([await closedPort(), admin.port]).status(), sampleStatus());
  } finally {
    await admin.server.stop();
  }
});

test('admin client: when the first endpoint accepts but never answers, the second answers after the timeout', async () => {
  // Goal: a hung node costs one timeout, not the whole command.
  const accepted: net.Socket[] = [];
  const silent = net.createServer((socket) => void accepted.push(socket)); // accepts and says nothing
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  const admin = await startFakeAdmin();
  try {
    const started = Date.now();
    const report = await client([(silent.address() as net.AddressInfo).port, admin.port], 200).status();
    assert.deepEqual(report, sampleStatus());
    assert.ok(Date.now() - started >= 150, 'the first endpoint was given its time');
  } finally {
    await admin.server.stop();
    for (const socket of accepted) socket.destroy();
    silent.close();
  }
});

test('admin client: an HTTP error from a node that answered is the answer, and the next node is not asked', async () => {
  // Goal: a node that answered is never second-guessed by asking another (a command could run twice).
  const wrongToken = await startFakeAdmin({ token: 'f'.repeat(64) });
  const good = await startFakeAdmin();
  try {
    const error = await client([wrongToken.port, good.port]).command('takeover', 'a').then(
      () => assert.fail('the command was accepted'),
      (caught: unknown) => caught,
    );
    assert.ok(error instanceof AdminError);
    assert.equal(error.code, 'http');
    assert.equal(error.status, 401);
    assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${wrongToken.port} answered 401: unauthorized`));
    assert.deepEqual(good.service.calls, []);
  } finally {
    await wrongToken.server.stop();
    await good.server.stop();
  }
});

test('admin client: when no endpoint answers, the AdminError names every endpoint tried and why', async () => {
  // Goal: the operator sees exactly which nodes were asked.
  const ports = [await closedPort(), await closedPort()];
  const error = await client(ports).status().then(
    () => assert.fail('something answered'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof AdminError);
  assert.equal(error.code, 'unreachable');
  assert.deepEqual(error.endpoints, ports.map((port) => `127.0.0.1:${port}`));
  for (const port of ports) assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port} \\(connection refused\\)`));
});
