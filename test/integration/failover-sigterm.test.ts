// Integration: a clean stop (SIGTERM) of the node serving a filer, under a probe, between two real
// `tandem node` processes on loopback (src/cli/node-command.ts; docs/design/fencing.md). The
// stopping node drains, writes the hand-off, releases its lease and records `released` before it
// closes its interconnect, so when its partner sees it go (and finds the process gone) the
// mailbox already holds the hand-off: the partner serves the filer with it, and the client sees a
// pause and nothing else: no error, no lost write, the same write verifier.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterPair, filerIn } from '../support/cluster-processes.js';
import { ProbeRun } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';

const PROBE_RATE = 1000;

/** The index of the last line of `log` (pino JSON lines) whose message is `msg`; -1 if none. */
function lastLineOf(log: string, msg: string): number {
  const lines = log.split('\n');
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]!.includes(`"msg":"${msg}"`)) return i;
  return -1;
}

test('failover: SIGTERM of node a under a probe: a releases a before its interconnect closes; b serves a with the hand-off; 0 errors, 0 lost writes', async (t) => {
  const pair = await ClusterPair.start('failover-sigterm');
  t.after(() => pair.stop());
  const before = pair.readMailbox('a');
  const probe = new ProbeRun(await nfsbench(), pair.urlOf('a'), { rate: PROBE_RATE });
  t.after(() => probe.kill());
  await probe.untilSecond(2);

  const stoppedAtMs = Date.now();
  assert.equal(await pair.stopNode('a'), 0, `a exits 0 on SIGTERM\n${pair.logs}`);
  const exitedAtMs = Date.now();
  const takeover = await pair.waitForEvent('b', "b's takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a' && event.outcome === 'completed');
  await probe.untilSecond(probe.second + 2);
  const figures = await probe.finish();

  const log = pair.logOf('a');
  t.diagnostic(`SIGTERM to a's exit: ${exitedAtMs - stoppedAtMs} ms; to b serving a: ${takeover.atMs - stoppedAtMs} ms; ${JSON.stringify(takeover)}`);
  t.diagnostic(`probe: max_pause_ms=${figures.maxPauseMs} errors=${figures.errors} (${figures.errorsByStatus}) stale=${figures.staleHandles} lost=${figures.values.get('lost_acked_writes')} verf_changes=${figures.values.get('verf_changes')} reconnects=${figures.values.get('reconnects')}`);

  // The order on a: filer released first, interconnect closed after.
  const released = lastLineOf(log, 'filer released at stop');
  const closed = lastLineOf(log, 'interconnect session closed');
  assert.ok(released >= 0, `a released filer a at stop\n${log}`);
  assert.ok(released < closed, `a released filer a before closing its interconnect\n${log}`);

  assert.equal(takeover.epoch, String(BigInt(before.epoch!) + 1n), 'b claimed the next epoch');
  const mailbox = pair.readMailbox('a');
  assert.deepEqual({ epoch: mailbox.epoch, owner: mailbox.owner, state: mailbox.state }, { epoch: takeover.epoch, owner: 'b', state: 'taken-over' });
  const onB = filerIn(await pair.statusOf('b'), 'a');
  assert.deepEqual({ phase: onB.phase, servedBy: onB.servedBy }, { phase: 'serving', servedBy: 'b' });

  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.ok(figures.verified, figures.stdout);
  assert.equal(figures.errors, 0, `a clean stop hands the filer over: no client error\n${figures.stdout}`);
  assert.equal(figures.values.get('verf_changes'), '0', `the hand-off keeps the write verifier\n${figures.stdout}`);
});
