// Integration: negotiated takeover (US 6,920,580; docs/design/fencing.md). Each node runs the
// configured health check with its own name in TANDEM_NODE; when a's check fails `failures`
// times in a row, a records a 'fault' and asks b to take over what it serves, and b does so as
// a planned takeover (drain, release, hand-off), so a client under load sees a pause and
// nothing else: no error, no lost write, the same write verifier.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ClusterPair, filerIn } from '../support/cluster-processes.js';
import { ProbeRun } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';

/** Checks every 200 ms, 2 failures in a row: the fault is acted on within about a second. */
const HEALTH_INTERVAL_MS = 200;
const HEALTH_FAILURES = 2;
const TAKEOVER_DEADLINE_MS = 15_000;

test("failover: a's health check fails: a records a fault and b takes a over as a planned takeover (cause fault); 0 errors, 0 lost writes", async (t) => {
  const pair = await ClusterPair.start('failover-health', {
    health: (scratch) => ({ command: `test ! -e ${scratch}/unhealthy-$TANDEM_NODE`, intervalMs: HEALTH_INTERVAL_MS, failures: HEALTH_FAILURES }),
  });
  t.after(() => pair.stop());
  const before = pair.readMailbox('a');
  const probe = new ProbeRun(await nfsbench(), pair.urlOf('a'), { rate: 1000 });
  t.after(() => probe.kill());
  await probe.untilSecond(2);

  writeFileSync(path.join(pair.directory, 'unhealthy-a'), '');
  const markedAtMs = Date.now();
  const fault = await pair.waitForEvent('a', "a's fault", (event) => event.kind === 'fault' && event.filer === 'a', TAKEOVER_DEADLINE_MS);
  const takeover = await pair.waitForEvent('b', "b's takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a', TAKEOVER_DEADLINE_MS);
  await probe.untilSecond(probe.second + 2);
  const figures = await probe.finish();

  t.diagnostic(`marked unhealthy -> fault ${fault.atMs - markedAtMs} ms (${fault.detail}); -> takeover done ${takeover.atMs - markedAtMs} ms: ${takeover.detail}; phases ${JSON.stringify(takeover.phases)}`);
  t.diagnostic(`probe: max_pause_ms=${figures.maxPauseMs} errors=${figures.errors} stale=${figures.staleHandles} lost=${figures.values.get('lost_acked_writes')} verf_changes=${figures.values.get('verf_changes')} reconnects=${figures.values.get('reconnects')}`);

  assert.match(fault.detail ?? '', /health check failed 2 times in a row/, JSON.stringify(fault));
  assert.equal(takeover.outcome, 'completed', JSON.stringify(takeover));
  assert.equal(takeover.cause, 'fault', JSON.stringify(takeover));
  // Planned: a drained and released it (the releaser's phases travel to b with `released`).
  for (const phase of ['negotiate', 'drain', 'release', 'claim', 'serve']) assert.equal(typeof takeover.phases[phase], 'number', `phase ${phase} in ${JSON.stringify(takeover.phases)}`);
  assert.ok(fault.atMs <= takeover.atMs);
  assert.equal(takeover.epoch, String(BigInt(before.epoch!) + 1n));
  const releaser = (await pair.events('a')).find((event) => event.kind === 'takeover' && event.filer === 'a');
  assert.equal(releaser?.outcome, 'completed', `a's side of it: ${JSON.stringify(releaser)}`);
  assert.equal(releaser?.cause, 'fault', `a's side of it: ${JSON.stringify(releaser)}`);

  const onB = await pair.statusOf('b');
  assert.deepEqual({ servedBy: filerIn(onB, 'a').servedBy, state: filerIn(onB, 'a').state, phase: filerIn(onB, 'a').phase }, { servedBy: 'b', state: 'taken-over', phase: 'serving' });
  const onA = await pair.statusOf('a');
  assert.equal(onA.nodes.find((node) => node.self)?.healthy, false, 'a reports itself unhealthy');

  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.ok(figures.verified, figures.stdout);
  assert.equal(figures.errors, 0, `a planned takeover: no client error\n${figures.stdout}`);
  assert.equal(figures.values.get('verf_changes'), '0', `a planned takeover keeps the write verifier\n${figures.stdout}`);
});
