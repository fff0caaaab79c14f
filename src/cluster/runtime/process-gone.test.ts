// The probe that tells a dead partner from a stalled one, on real processes: a process stopped
// with SIGSTOP still accepts connections (the kernel completes them), so it is not "gone"; the
// same process killed is refused at once, so it is.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { isGone, probeEndpoint } from './process-gone.js';

const DEADLINE_MS = 10_000;

/** A free port on 127.0.0.1 that nothing listens on any more. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A child process listening on 127.0.0.1; resolves with it and its port once it listens. */
function listeningChild(): Promise<{ child: ReturnType<typeof spawn>; port: number }> {
  const source = "const s=require('net').createServer(()=>{});s.listen(0,'127.0.0.1',()=>console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child did not listen in time')), DEADLINE_MS);
    child.stdout!.once('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve({ child, port: Number(chunk.toString().trim()) });
    });
  });
}

test('process gone: a port nobody listens on is refused, so the process is gone', async () => {
  // Goal: refusal on every endpoint is the one signal that no process serves there.
  const port = await closedPort();
  assert.equal(await probeEndpoint({ host: '127.0.0.1', port }), 'refused');
  assert.equal(await isGone([{ host: '127.0.0.1', port }]), true);
});

test('process gone: one endpoint still accepting means not gone', async () => {
  // Goal: a partner is gone only when all of its endpoints refuse.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const live = (server.address() as net.AddressInfo).port;
    assert.equal(await isGone([{ host: '127.0.0.1', port: await closedPort() }, { host: '127.0.0.1', port: live }]), false);
    assert.equal(await isGone([]), false, 'no endpoint proves nothing');
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('process gone: a stalled process (SIGSTOP) still accepts connections; killed, it is refused', async () => {
  // Goal: the design's claim on a real process: a stall never looks like death, kill -9 does.
  const { child, port } = await listeningChild();
  const endpoint = { host: '127.0.0.1', port };
  try {
    child.kill('SIGSTOP');
    assert.equal(await probeEndpoint(endpoint), 'accepted', 'the kernel completes the handshake for a stopped process');
    assert.equal(await isGone([endpoint]), false);
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    assert.equal(await probeEndpoint(endpoint), 'refused');
    assert.equal(await isGone([endpoint]), true);
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
});
