// Unit tests of the request gate: counting requests in progress, drain (resolves when the last
// request leaves, at once when none is running, or at its deadline with the count left),
// refusal while draining or stopped, and resume. The deadline runs on mocked timers, so no
// test waits for real time.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestGate } from './request-gate.js';

test('request gate: tryEnter and leave count the requests in progress', () => {
  // Goal: the count follows admissions and departures; an unmatched leave is a bug.
  const gate = new RequestGate();
  assert.equal(gate.state, 'serving');
  assert.ok(gate.tryEnter());
  assert.ok(gate.tryEnter());
  assert.equal(gate.inProgress, 2);
  gate.leave();
  assert.equal(gate.inProgress, 1);
  gate.leave();
  assert.equal(gate.inProgress, 0);
  assert.throws(() => gate.leave(), /without a matching tryEnter/);
});

test('request gate: drain with nothing in progress resolves at once, drained', async () => {
  // Goal: no timer is needed when there is nothing to wait for.
  const gate = new RequestGate();
  assert.deepEqual(await gate.drain(60_000), { drained: true, inProgress: 0 });
  assert.equal(gate.state, 'draining');
});

test('request gate: drain resolves when the last request in progress leaves', async (t) => {
  // Goal: in-progress requests complete; drain waits for exactly them, not for its deadline.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const gate = new RequestGate();
  gate.tryEnter();
  gate.tryEnter();
  let result: unknown;
  const draining = gate.drain(60_000).then((r) => (result = r));
  await Promise.resolve();
  gate.leave();
  await Promise.resolve();
  assert.equal(result, undefined, 'one request is still in progress');
  gate.leave();
  assert.deepEqual(await draining, { drained: true, inProgress: 0 });
});

test('request gate: drain past its deadline reports the requests still in progress', async (t) => {
  // Goal: a stuck request does not hold a takeover forever; the caller learns how many remain.
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const gate = new RequestGate();
  gate.tryEnter();
  gate.tryEnter();
  gate.tryEnter();
  gate.leave();
  const draining = gate.drain(5_000);
  t.mock.timers.tick(4_999);
  let settled = false;
  void draining.then(() => (settled = true));
  await Promise.resolve();
  assert.equal(settled, false, 'not before the deadline');
  t.mock.timers.tick(1);
  assert.deepEqual(await draining, { drained: false, inProgress: 2 });
  // The stragglers may still leave, and a second drain then resolves at once.
  gate.leave();
  gate.leave();
  assert.deepEqual(await gate.drain(5_000), { drained: true, inProgress: 0 });
});

test('request gate: no request enters while draining or stopped; resume serves again', async () => {
  // Goal: draining and stopped refuse new requests; resume restores serving.
  const gate = new RequestGate();
  await gate.drain(1_000);
  assert.equal(gate.tryEnter(), false);
  assert.equal(gate.inProgress, 0);
  gate.stop();
  assert.equal(gate.state, 'stopped');
  assert.equal(gate.tryEnter(), false);
  // drain does not turn a stopped gate back into a draining one.
  await gate.drain(1_000);
  assert.equal(gate.state, 'stopped');
  gate.resume();
  assert.equal(gate.state, 'serving');
  assert.ok(gate.tryEnter());
  assert.equal(gate.inProgress, 1);
});

test('request gate: a request admitted before stop may still leave after it', () => {
  // Goal: stop refuses new work but does not forget work in progress.
  const gate = new RequestGate();
  gate.tryEnter();
  gate.stop();
  assert.equal(gate.inProgress, 1);
  gate.leave();
  assert.equal(gate.inProgress, 0);
});
