// The automatic giveback's ping-pong guard: when it lets a giveback start, and how it trips.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GivebackGuard } from './giveback-guard.js';

const config = { delayMs: 1000, attemptsMax: 2, windowMs: 10_000 };

test('giveback guard: an automatic giveback waits until the node has been steady for the delay', () => {
  // Goal: "back and healthy for a delay" is measured from when the steadiness began.
  const guard = new GivebackGuard(config);
  const never = () => assert.fail('the guard must not trip');
  assert.equal(guard.mayStart(1500, 600, never), false, '900 ms steady is not enough');
  assert.equal(guard.mayStart(1600, 600, never), true, '1000 ms steady is');
});

test('giveback guard: a failed attempt waits a whole delay again', () => {
  // Goal: a giveback that failed is not retried at the next tick.
  const guard = new GivebackGuard(config);
  const never = () => assert.fail('the guard must not trip');
  guard.started(2000);
  guard.failed(2100);
  assert.equal(guard.mayStart(2500, 0, never), false);
  assert.equal(guard.mayStart(3100, 0, never), true);
});

test('giveback guard: too many attempts within the window trip it once, until a giveback by hand resets it', () => {
  // Goal: the ping-pong guard stops a filer bouncing, says why once, and an operator can resume it.
  const guard = new GivebackGuard(config);
  const trips: string[] = [];
  const trip = (reason: string) => trips.push(reason);
  guard.started(1000);
  guard.started(5000);
  assert.equal(guard.mayStart(9000, 0, trip), false);
  assert.equal(guard.mayStart(9500, 0, trip), false);
  assert.equal(trips.length, 1, 'the trip is reported once');
  assert.match(trips[0]!, /automatic giveback stopped: 2 attempts within 10000 ms \(ping-pong guard\)/);
  assert.equal(guard.tripped, trips[0]);
  guard.reset();
  assert.equal(guard.tripped, undefined);
  assert.equal(guard.mayStart(9600, 0, trip), true);
});

test('giveback guard: attempts older than the window no longer count', () => {
  // Goal: a filer that came back once a day is not stopped by the guard.
  const guard = new GivebackGuard(config);
  const never = () => assert.fail('the guard must not trip');
  guard.started(1000);
  guard.started(2000);
  assert.equal(guard.mayStart(12_001, 0, never), true);
});
