// Integration: failure takeover after kill -9 (docs/design/fencing.md, "A process that is gone,
// told from one that is stalled"), between two real `tandem node` processes on loopback. A node
// killed with kill -9 loses its sockets, so its partner's probe should find every endpoint
// refusing and claim the next epoch without waiting out the lease; a client riding through it
// sees a pause, no stale handle and no lost acknowledged write. With automatic giveback on, the
// restarted home node gets its filer back by itself.
//
// The quick path holds whichever node started first: b learns who serves a from a's lease being
// renewed, not only from its own start-up, so it probes at peer-down in either order; and the
// probe keeps asking for up to 500 ms (PROBE_PERSIST_MS), since a listener of the killed process
// may still accept for a moment after its connections closed.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterPair, filerIn, type ClusterPairOptions } from '../support/cluster-processes.js';
import { ProbeRun } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';

/** Probe load: low enough that the probe does not slow the failover it measures on 2 cores. */
const PROBE_RATE = 1000;
const PROBE_IN_FLIGHT = 4;
/**
 * kill -9 to b serving a, the quick path: the interconnect session drops at once (the kernel
 * closes the socket), the probe of a's endpoints is refused (GONE_PROBE_TIMEOUT_MS 250 per round,
 * asked again for up to PROBE_PERSIST_MS 500 while an endpoint still accepts), then claim and
 * serve: about 20-110 ms here. The bound is the configured failover time (timing.peerTimeoutMs,
 * 1000 ms by default): a loaded 2-core machine does not fail it, while the lease path (b claims
 * once it has seen a's lease unchanged for leaseMs x 1.01 + leaseMarginMs, 1,260 ms, read every
 * 100 ms) always would.
 */
const QUICK_PATH_MS = 1_000;

async function startPair(t: TestContext, prefix: string, options: ClusterPairOptions = {}): Promise<ClusterPair> {
  const pair = await ClusterPair.start(prefix, options);
  t.after(() => pair.stop());
  return pair;
}

async function startProbe(t: TestContext, pair: ClusterPair): Promise<ProbeRun> {
  const probe = new ProbeRun(await nfsbench(), pair.urlOf('a'), { rate: PROBE_RATE, extra: ['-q', String(PROBE_IN_FLIGHT)] });
  t.after(() => probe.kill());
  await probe.untilSecond(2);
  return probe;
}

test('failover: kill -9 of node a under a probe: b takes a over (cause failure), 0 stale handles, 0 lost acknowledged writes', async (t) => {
  // Both nodes start at once; the last test pins the order in which b starts first.
  const pair = await startPair(t, 'failover-kill');
  const before = pair.readMailbox('a');
  const probe = await startProbe(t, pair);

  const killedAtMs = await pair.killNode('a');
  const takeover = await pair.waitForEvent('b', "b's failure takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a');
  await pair.waitForStatus('b', 'b serves a', (status) => filerIn(status, 'a').phase === 'serving' && filerIn(status, 'a').servedBy === 'b');
  await probe.untilSecond(probe.second + 2);
  const figures = await probe.finish();

  const killToServedMs = takeover.atMs - killedAtMs;
  t.diagnostic(`kill -9 to b serving a: ${killToServedMs} ms; phases ${JSON.stringify(takeover.phases)}; ${takeover.detail}`);
  t.diagnostic(`probe: max_pause_ms=${figures.maxPauseMs} errors=${figures.errors} (${figures.errorsByStatus}; on retransmitted requests ${figures.retransmitErrors}) stale=${figures.staleHandles} lost=${figures.values.get('lost_acked_writes')} reconnects=${figures.values.get('reconnects')} retransmits=${figures.values.get('retransmits')} verf_changes=${figures.values.get('verf_changes')}`);

  assert.equal(takeover.outcome, 'completed', JSON.stringify(takeover));
  assert.equal(takeover.cause, 'failure', JSON.stringify(takeover));
  // The quick path: the probe found a gone, and b served a within the failover time.
  assert.match(takeover.detail ?? '', /process is gone/, JSON.stringify(takeover));
  assert.equal(takeover.epoch, String(BigInt(before.epoch!) + 1n), 'b claimed the next epoch');
  assert.ok(killToServedMs <= QUICK_PATH_MS, `b served a ${killToServedMs} ms after the kill (bound ${QUICK_PATH_MS})`);
  const mailbox = pair.readMailbox('a');
  assert.deepEqual({ epoch: mailbox.epoch, owner: mailbox.owner, state: mailbox.state }, { epoch: takeover.epoch, owner: 'b', state: 'taken-over' });

  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.ok(figures.verified, figures.stdout);
  // A failure takeover has no hand-off: requests a executed whose replies died with it are
  // retransmitted (same XID) to b, whose duplicate-request cache never saw them. Idempotent ones
  // are simply done again; a CREATE or REMOVE done twice answers EXIST or NOENT. So the only
  // errors allowed are those, on retransmitted requests, at most one per request in flight.
  assert.ok(figures.errors <= PROBE_IN_FLIGHT, `at most ${PROBE_IN_FLIGHT} errors (requests in flight at the kill): ${figures.errors}\n${figures.stdout}`);
  assert.equal(figures.retransmitErrors, figures.errors, `every error is on a retransmitted request\n${figures.stdout}`);
  if (figures.errors > 0) assert.match(figures.errorsByStatus, /^(NFS3ERR_(EXIST|NOENT)=\d+\s*)+$/, figures.stdout);
});

test('failover: with automatic giveback, a restarted after kill -9 gets filer a back by itself (cause auto)', async (t) => {
  const delayMs = 1_000;
  const pair = await startPair(t, 'failover-autogiveback', { autoGiveback: { enabled: true, delayMs } });

  await pair.killNode('a');
  const takeover = await pair.waitForEvent('b', "b's failure takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a' && event.outcome === 'completed');
  assert.equal(takeover.cause, 'failure');

  pair.startNode('a');
  const restartedAtMs = Date.now();
  // The giveback comes delayMs after a is back and healthy: a start-up, the delay, and the
  // operation itself (about 100 ms) within a few seconds more.
  const boundMs = delayMs + 8_000;
  const giveback = await pair.waitForEvent('a', "a's automatic giveback of a", (event) => event.kind === 'giveback' && event.filer === 'a' && event.outcome === 'completed', boundMs + 5_000);
  const tookMs = giveback.atMs - restartedAtMs;
  const onB = (await pair.events('b')).filter((event) => event.kind === 'giveback' && event.filer === 'a');
  t.diagnostic(`restart of a to giveback completed: ${tookMs} ms; a's event ${JSON.stringify(giveback)}; b's ${JSON.stringify(onB)}`);
  assert.equal(giveback.cause, 'auto', JSON.stringify(giveback));
  assert.ok(tookMs >= delayMs, `not before delayMs (${tookMs} ms)`);
  assert.ok(tookMs <= boundMs, `within delayMs + a few seconds (${tookMs} ms, bound ${boundMs})`);

  const status = await pair.waitForStatus('a', 'a serves a again', (s) => filerIn(s, 'a').phase === 'serving');
  assert.deepEqual({ servedBy: filerIn(status, 'a').servedBy, state: filerIn(status, 'a').state }, { servedBy: 'a', state: 'normal' });
  assert.equal(pair.readMailbox('a').owner, 'a');
});

test('failover: kill -9 takes the quick path also when the partner started first', async (t) => {
  // b starts, reads filer a's mailbox (no claim yet), serves b; only then does a start and claim
  // a. b learns that a serves a from a's lease being renewed.
  const pair = await startPair(t, 'failover-kill-order', { startOrder: ['b', 'a'] });
  const before = pair.readMailbox('a');
  const seen = filerIn(await pair.statusOf('b'), 'a');
  assert.deepEqual({ servedBy: seen.servedBy, epoch: seen.epoch }, { servedBy: 'a', epoch: before.epoch }, `b knows a serves a: ${JSON.stringify(seen)}`);

  const killedAtMs = await pair.killNode('a');
  const takeover = await pair.waitForEvent('b', "b's failure takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a');
  const killToServedMs = takeover.atMs - killedAtMs;
  t.diagnostic(`kill -9 to b serving a: ${killToServedMs} ms; ${JSON.stringify(takeover)}`);
  assert.equal(takeover.outcome, 'completed', JSON.stringify(takeover));
  assert.match(takeover.detail ?? '', /process is gone/, JSON.stringify(takeover));
  assert.equal(takeover.epoch, String(BigInt(before.epoch!) + 1n), 'b claimed the next epoch');
  assert.ok(killToServedMs <= QUICK_PATH_MS, `b served a ${killToServedMs} ms after the kill (bound ${QUICK_PATH_MS})`);
});
