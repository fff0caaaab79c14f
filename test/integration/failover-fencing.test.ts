// Integration: the lease fences a node that can no longer prove it is alive (docs/design/
// fencing.md, "The lease" and "The timing argument"), with real `tandem node` processes and the
// shared probe as the client. Two ways for a's lease to stop being renewed while a's process
// lives: its mailbox becomes unreachable (its own mailbox path, a symbolic link, pointed at
// nothing), or the process is stalled (SIGSTOP). Either way a stops serving on its own (a
// 'fence' event) before anything is served at a newer epoch, b ends up serving a (a fenced node
// does not take its filer straight back), and no acknowledged write is lost.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EventReport } from '../../src/admin/cluster-service.js';
import { ClusterPair, filerIn, type ClusterPairOptions } from '../support/cluster-processes.js';
import { ProbeRun, type ProbeFigures } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';

const PROBE_RATE = 1000;
/** How long the failure takeover may take once a's lease stops: lease 1 s + margin, with room. */
const TAKEOVER_DEADLINE_MS = 15_000;
const PAUSE_MS = 4_000;

async function startPair(t: TestContext, prefix: string, options: ClusterPairOptions = {}): Promise<ClusterPair> {
  const pair = await ClusterPair.start(prefix, options);
  t.after(() => pair.stop());
  return pair;
}

async function startProbe(t: TestContext, pair: ClusterPair): Promise<ProbeRun> {
  const probe = new ProbeRun(await nfsbench(), pair.urlOf('a'), { rate: PROBE_RATE });
  t.after(() => probe.kill());
  await probe.untilSecond(2);
  return probe;
}

function describeProbe(figures: ProbeFigures): string {
  const v = (key: string) => figures.values.get(key);
  return `max_pause_ms=${figures.maxPauseMs} errors=${figures.errors} (${figures.errorsByStatus}; on retransmitted requests ${figures.retransmitErrors}) stale=${figures.staleHandles} lost=${v('lost_acked_writes')} reconnects=${v('reconnects')} timeouts=${v('timeouts')} verf_changes=${v('verf_changes')}`;
}

function assertNoLostWrites(figures: ProbeFigures): void {
  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.ok(figures.verified, figures.stdout);
}

/** The moment b began claiming: its takeover event's end less its claim and serve phases. */
const claimStartOf = (takeover: EventReport) => takeover.atMs - (takeover.phases.serve ?? 0) - (takeover.phases.claim ?? 0);

test("failover: a's mailbox made unreachable under a probe: a fences itself, then b takes a over; 0 lost writes", async (t) => {
  const pair = await startPair(t, 'failover-mailbox', { mailboxLinks: ['a'] });
  const before = pair.readMailbox('a');
  const probe = await startProbe(t, pair);
  // If calls outlive the grace after the lease lapsed, a kills itself (the self-fence): allowed.
  pair.mayExit('a');

  pair.breakMailbox('a');
  const brokenAtMs = Date.now();
  const fence = await pair.waitForEvent('a', "a's fence of filer a", (event) => event.kind === 'fence' && event.filer === 'a', TAKEOVER_DEADLINE_MS);
  const takeover = await pair.waitForEvent('b', "b's failure takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a' && event.outcome === 'completed', TAKEOVER_DEADLINE_MS);
  await probe.untilSecond(probe.second + 2);
  const figures = await probe.finish();

  t.diagnostic(`mailbox broken -> a fenced: ${fence.atMs - brokenAtMs} ms (${fence.detail}); -> b's claim began ${claimStartOf(takeover) - brokenAtMs} ms, served ${takeover.atMs - brokenAtMs} ms; phases ${JSON.stringify(takeover.phases)}`);
  t.diagnostic(`probe: ${describeProbe(figures)}`);
  assert.ok(fence.atMs - brokenAtMs <= 1_000 + 500, `a stopped within its lease (1 s) of the break, with room for a busy machine: ${fence.atMs - brokenAtMs} ms`);
  assert.equal(takeover.cause, 'failure', JSON.stringify(takeover));
  assert.equal(takeover.epoch, String(BigInt(before.epoch!) + 1n));
  assert.ok(fence.atMs < claimStartOf(takeover), `a's fence (${fence.atMs}) came before b began to claim (${claimStartOf(takeover)}), on one host's wall clock`);
  const served = await pair.statusOf('b');
  assert.deepEqual({ phase: filerIn(served, 'a').phase, servedBy: filerIn(served, 'a').servedBy }, { phase: 'serving', servedBy: 'b' });
  if (pair.isRunning('a')) {
    const onA = (await pair.events('a')).filter((event) => event.filer === 'a' && event.atMs > fence.atMs && event.kind !== 'fence');
    assert.deepEqual(onA.filter((event) => event.outcome === 'completed' && (event.kind === 'start' || event.kind === 'takeover' || event.kind === 'giveback')), [], 'a did not serve a again');
  }
  assertNoLostWrites(figures);
});

/** What node `node`'s log (pino JSON lines on stderr, written synchronously) says of its fence of `filer`. */
function fenceInLog(pair: ClusterPair, node: string, filer: string): { event: EventReport | undefined; selfKilled: boolean } {
  let event: EventReport | undefined;
  let selfKilled = false;
  for (const line of pair.logOf(node).split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { msg?: string; event?: EventReport; filer?: string };
    if (entry.event?.kind === 'fence' && entry.event.filer === filer) event ??= entry.event;
    if (entry.msg?.includes('self-fence') === true) selfKilled = true;
  }
  return { event, selfKilled };
}

test('failover: node a stopped (SIGSTOP) for 4 s under a probe fences itself when it resumes; then b, not a, serves a; 0 lost writes', async (t) => {
  // While a is stopped, its process keeps what it served filer a with: the listening socket on
  // a's address (the loopback backend binds it) and its volumes open, so b's claims fail to serve
  // (the address in use, the volume locked) and b releases each one, until a has resumed, found
  // its lease lapsed and let go. A node whose lease lapsed does not take the filer back by
  // failure takeover for an operation deadline (10 s) unless its partner is gone, so the resumed
  // a leaves filer a to b, which serves it at its next attempt. Resumed with calls still in
  // progress past the grace, a kills itself (the self-fence), which is allowed.
  const pair = await startPair(t, 'failover-sigstop');
  const before = pair.readMailbox('a');
  const probe = await startProbe(t, pair);

  const pausedAtMs = pair.pauseNode('a');
  // The fault is "stopped for 4 s": a timed stall, not a guess at how long something takes.
  await new Promise((resolve) => setTimeout(resolve, PAUSE_MS));
  const resumedAtMs = pair.resumeNode('a');

  const fence = await pair.waitFor("a's fence of filer a after it resumed", async () => {
    const found = fenceInLog(pair, 'a', 'a');
    return found.event !== undefined || found.selfKilled || !pair.isRunning('a') ? { value: found } : { last: 'no fence in the log of a yet' };
  }, TAKEOVER_DEADLINE_MS);
  // Exactly one node serves a, and the mailbox agrees: asked of every node still running.
  const server = await pair.waitFor('exactly one node serving a, as the mailbox says', async () => {
    const running = ['a', 'b'].filter((node) => pair.isRunning(node));
    const statuses = await Promise.all(running.map((node) => pair.statusOf(node)));
    const serving = statuses.filter((status) => filerIn(status, 'a').phase === 'serving').map((status) => status.node);
    const mailbox = pair.readMailbox('a');
    const agreed = serving.length === 1 && mailbox.owner === serving[0] && statuses.every((status) => filerIn(status, 'a').epoch === mailbox.epoch);
    return agreed ? { value: { node: serving[0]!, mailbox } } : { last: { serving, mailbox } };
  }, TAKEOVER_DEADLINE_MS);
  await probe.untilSecond(probe.second + 2);
  const figures = await probe.finish();

  const history = (await pair.events('b')).filter((event) => event.filer === 'a' && event.atMs >= pausedAtMs);
  t.diagnostic(`paused ${resumedAtMs - pausedAtMs} ms; a: ${fence.event === undefined ? 'no fence event' : `fenced ${fence.event.atMs - resumedAtMs} ms after resuming (${fence.event.detail})`}${fence.selfKilled ? '; a killed itself (self-fence)' : ''}; a running: ${pair.isRunning('a')}`);
  t.diagnostic(`b's events for a: ${history.map((e) => `${e.kind}/${e.cause}/${e.outcome}@+${e.atMs - pausedAtMs}ms: ${e.detail}`).join(' | ')}`);
  t.diagnostic(`served by ${server.node} at epoch ${server.mailbox.epoch} (was ${before.epoch}); probe: ${describeProbe(figures)}`);

  assert.ok(fence.event !== undefined || fence.selfKilled, `a recorded its fence or killed itself\n${pair.logOf('a')}`);
  if (fence.event !== undefined) assert.ok(fence.event.atMs >= resumedAtMs - 5, 'a noticed only once it ran again');
  assert.ok(BigInt(server.mailbox.epoch!) > BigInt(before.epoch!), 'whoever serves a now does so at a newer epoch than the one a was stopped at');
  // a served filer a once, at its start, and never again after it resumed: its log says
  // "filer served" of a once only (nothing of its old epoch, nothing of a newer one).
  const servedByA = pair.logOf('a').split('\n').filter((line) => line.includes('"msg":"filer served"') && line.includes('"filer":"a"'));
  assert.deepEqual(servedByA.map((line) => (JSON.parse(line) as { epoch?: string }).epoch), [before.epoch], `a served a at epoch ${before.epoch} only, at its start`);
  assertNoLostWrites(figures);

  assert.equal(server.node, 'b', `b, not the resumed a, serves a: served by ${server.node}: ${history.map((e) => e.detail).join(' | ')}`);
  if (pair.isRunning('a')) {
    const onA = (await pair.events('a')).filter((event) => event.filer === 'a' && event.atMs >= resumedAtMs && event.kind !== 'fence');
    assert.deepEqual(onA.filter((event) => event.outcome === 'completed' && (event.kind === 'start' || event.kind === 'takeover' || event.kind === 'giveback')), [], 'the resumed a did not serve a again');
  }
});
