// The health check: how a command's outcome is judged, and that only changes reach the core.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '../../platform/logger.js';
import { HealthCheck, runCheck } from './health-check.js';

test('health check: exit 0 passes; an exit status, a timeout or a missing shell word fail with the reason', async () => {
  // Goal: the reason an operator reads says what failed.
  assert.equal(await runCheck('true', 2000), undefined);
  assert.match((await runCheck('echo disk gone >&2; exit 3', 2000))!, /^exit status 3: disk gone$/);
  assert.match((await runCheck('sleep 5', 200))!, /killed by SIGKILL \(timeout 200 ms\?\)/);
  assert.match((await runCheck('no-such-command-here', 2000))!, /^exit status 127/);
  assert.equal(await runCheck('test "$TANDEM_NODE" = a', 2000, { ...process.env, TANDEM_NODE: 'a' }), undefined);
});

test('health check: the core hears once after N failures in a row, and once when it passes again', async () => {
  // Goal: a failing check does not flood the core, and recovery is reported.
  const changes: [boolean, string][] = [];
  let outcome = 'exit 1';
  const check = new HealthCheck({ command: 'sh -c "$CHECK"', intervalMs: 100, timeoutMs: 2000, failures: 2 }, 'a', silentLogger(), (healthy, reason) => changes.push([healthy, reason]));
  process.env['CHECK'] = outcome;
  check.start();
  const deadline = Date.now() + 10_000;
  while (changes.length < 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(changes.length, 1);
  assert.equal(changes[0]![0], false);
  assert.match(changes[0]![1], /failed 2 times in a row: exit status 1/);
  outcome = 'exit 0';
  process.env['CHECK'] = outcome;
  while (changes.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
  check.stop();
  delete process.env['CHECK'];
  assert.deepEqual(changes[1], [true, 'health check passes']);
});
