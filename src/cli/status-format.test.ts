// Tests of the human-readable rendering of events: phase order, failures with their detail,
// and events without timings.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TAKEOVER_EVENT } from '../admin/cluster-service-fixture.js';
import { formatEventLine, formatOutcome } from './status-format.js';

test('status format: phases print in the order they run, whatever order the report lists them in', () => {
  // Goal: the timing line reads like the protocol, with unknown phases last.
  const event = { ...TAKEOVER_EVENT, phases: { serve: 10, extra: 1, total: 84, check: 2, claim: 4, drain: 40, negotiate: 3, release: 25 } };
  assert.equal(formatOutcome(event), 'takeover a: completed in 84 ms (check 2, negotiate 3, drain 40, release 25, claim 4, serve 10, extra 1)');
});

test('status format: a failed operation says how long it ran and why, and an event without timings has none', () => {
  // Goal: failures carry their detail; empty phase maps print no empty parentheses.
  const failed = { ...TAKEOVER_EVENT, outcome: 'rolled-back' as const, epoch: null, phases: { check: 2, negotiate: 500, total: 502 }, detail: 'node a did not answer' };
  assert.equal(formatOutcome(failed), 'takeover a: rolled-back after 502 ms (check 2, negotiate 500): node a did not answer');
  assert.equal(formatEventLine(failed), '2025-01-02T03:04:05.000Z  b  takeover a: rolled-back after 502 ms (check 2, negotiate 500): node a did not answer');
  const start = { ...TAKEOVER_EVENT, kind: 'start' as const, phases: {}, detail: null };
  assert.equal(formatOutcome(start), 'start a: completed');
});
