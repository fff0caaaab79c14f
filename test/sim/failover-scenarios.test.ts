// Scenarios of the failure takeover (docs/design/fencing.md): a partner that is gone, stopped,
// cut off or unable to reach its mailbox, a forced takeover, a negotiated one, and the automatic
// giveback with its ping-pong guard, each as one deterministic schedule through the cluster
// simulator (test/sim/cluster-sim.ts) with its real LeaseKeeper and LeaseObserver. Every step
// also passes the invariants: at most one node serves a filer, where serving means its runtime
// serves it AND its lease is valid on its own clock, and only at the highest claim.
//
// The schedule, as in scenarios.test.ts: an action takes 10 ms, a message 5 ms, a lease read or
// write 5 ms, a broken or restored link reaches the cores after 300 ms, ticks and lease polls
// every 100 ms; leaseMs 1000, renewals every 333 ms, and the partner waits 1000 × 1.01 + 250 =
// 1260 ms of unchanged lease. Unless said otherwise b boots 500 ms after a, so that b's start-up
// reading of the mailbox already shows a serving filer a (after a simultaneous boot b learns it
// from a's lease readings instead: see the kill -9 after a simultaneous boot).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterSim, LEASE_MARGIN_MS, OPERATION_DEADLINE_MS, type NodeName, type Recorded, type SimHooks, type SimOptions } from './cluster-sim.js';

/** Both nodes up, b booted 500 ms after a: at 1500, a serves a and b serves b, each at epoch 1. */
async function pair(options: Omit<SimOptions, 'seed'> = {}, staggerMs = 500): Promise<ClusterSim> {
  const sim = await new ClusterSim({ seed: 1, ...options }).boot(staggerMs);
  assert.deepEqual([sim.servers('a'), sim.servers('b')], [[{ node: 'a', epoch: 1n }], [{ node: 'b', epoch: 1n }]]);
  return sim;
}

/** Events since `mark`: node, kind, cause, filer, outcome, epoch, time on the node's clock, detail. */
const eventsSince = (sim: ClusterSim, mark: number): unknown[][] =>
  sim.events.slice(mark).map(({ node, event: e }: Recorded) => [node, e.kind, e.cause, e.filer, e.outcome, e.epoch, e.atMs, e.detail]);

interface ClaimSpy {
  readonly hook: Required<SimHooks>['afterEffect'];
  /** 'node filer@epoch' -> real time at which that claim took effect in the mailbox. */
  readonly at: Map<string, number>;
  sim?: ClusterSim;
}

/** An afterEffect hook noting when each claim takes effect (set `sim` once it exists). */
function claimTimes(): ClaimSpy {
  const at = new Map<string, number>();
  const spy: ClaimSpy = {
    at,
    hook: (node, action) => {
      if (action.type === 'claim' && spy.sim !== undefined) at.set(`${node} ${action.filer}@${action.epoch}`, spy.sim.nowMs);
      return undefined;
    },
  };
  return spy;
}

/** Real time at which `node`'s lease of `filer` stops being valid (its keeper's validUntil). */
function validUntilReal(sim: ClusterSim, node: NodeName, filer: string): number {
  const keeper = sim.keeperOf(node, filer);
  assert.ok(keeper?.validUntilMs !== undefined, `${node} has a lease of ${filer}`);
  return sim.clockOf(node).realAt(keeper.validUntilMs);
}

test('failover: a is killed (kill -9) with the link up; b\'s probe finds it gone and b serves a at epoch 2 without waiting for the lease', async () => {
  const sim = await pair();
  const mark = sim.events.length;
  const leaseLapsesAt = validUntilReal(sim, 'a', 'a');
  sim.crash('a');
  await sim.run(2000);
  // Crash at 1500; peer-down at 1800; probe (refused everywhere), inspect, claim, serve: 1840.
  assert.deepEqual(eventsSince(sim, mark), [
    ['b', 'takeover', 'failure', 'a', 'completed', 2n, 1840, 'acquirer: a served by b (failure: a\'s process is gone (refused))'],
  ]);
  assert.deepEqual(sim.events.at(-1)?.event.phases, { detect: 10, check: 10, claim: 10, serve: 10, total: 30 });
  // a's lease (renewed at 1352) would have been valid until 2352, and read expired later still.
  assert.equal(leaseLapsesAt, 2352);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'b', epoch: 1n }]);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 2n, owner: 'b', state: 'taken-over' }, handoffs: [] });
  // a comes back, finds its filer taken over, and stays idle until a giveback.
  await sim.restart('a').run(1000);
  assert.equal(sim.phase('a', 'a'), 'idle');
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('failover: after a simultaneous boot, a is killed; b\'s probe finds it gone and b serves a without waiting for the lease', async () => {
  // A defect the simulation found, fixed: b's start-up reading of the mailbox came before a's
  // claim, and b did not learn from the lease readings (which name a) that a serves a, so it did
  // not probe at peer-down and waited the lease out (takeover at 2435). Now a fresh reading teaches it.
  const sim = await pair({}, 0);
  const seen = sim.status('b')?.filers.find((f) => f.name === 'a');
  assert.deepEqual([seen?.servedBy, seen?.epoch], ['a', 1n]);
  const mark = sim.events.length;
  sim.crash('a');
  await sim.run(3000);
  // Crash at 1000; peer-down at 1300; probe, inspect, claim, serve: 1340.
  assert.deepEqual(eventsSince(sim, mark), [
    ['b', 'takeover', 'failure', 'a', 'completed', 2n, 1340, 'acquirer: a served by b (failure: a\'s process is gone (refused))'],
  ]);
});

test('failover: a killed and restarted at once wins the race for its filer; b, its probe finding stale, does not claim again while a serves', async () => {
  // A safety defect the simulation found, fixed (seeds 357, 465, 527, 869, 1329, ... of
  // run-seeds): b kept the probe's finding of a's earlier life, its lost claim moved its epoch to
  // a's new one, and b took the probe as saying the holder of THAT epoch was gone: it claimed
  // epoch 3 at 1965 while a served epoch 2 on a lease valid until 2831. The finding now speaks
  // only of the epoch a held when the probe ran (1).
  // b's claims take 50 ms, so a's start-up claim of epoch 2 lands first.
  const sim = await pair({ hooks: { actionDelay: (node, action) => (node === 'b' && action.type === 'claim' ? 50 : undefined) } });
  const mark = sim.events.length;
  sim.crash('a');
  await sim.run(311); // b heard peer-down at 1800; its probe found a gone at 1810
  await sim.restart('a').run(3000);
  // a's start-up claim of epoch 2 (1831) beat b's (1870): b's failure takeover failed, and b
  // stands aside from then on, a's lease being renewed.
  assert.deepEqual(eventsSince(sim, mark).map((e) => e.slice(0, 6)), [
    ['a', 'start', undefined, 'a', 'completed', 2n],
    ['b', 'takeover', 'failure', 'a', 'failed', 2n],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a'], [2n, 'a']]);
});

for (const clocks of ['agreeing', 'drifting'] as const) {
  test(`failover: a is stopped (SIGSTOP) for 5 s, clocks ${clocks}; b serves a only after a's lease lapsed, and a resumed does not serve it`, async () => {
    // Drifting: a's clock 1% slow (its lease lasts longer in real time), b's 1% fast (its wait is
    // shorter): the worst case the timing argument allows for ρ = 1%.
    const drift = { a: { rate: 1 / 1.01, originMs: 5_000_000 }, b: { rate: 1.01, originMs: 77 } };
    const spy = claimTimes();
    const sim = await pair({ hooks: { afterEffect: spy.hook }, ...(clocks === 'drifting' ? { clocks: drift } : {}) }, 0);
    spy.sim = sim;
    const mark = sim.events.length;
    sim.pause('a', 5000);
    await sim.run(4000);
    const lapsed = validUntilReal(sim, 'a', 'a');
    const claimed = spy.at.get('b a@2');
    assert.ok(claimed !== undefined, 'b claimed a@2 while a was stopped');
    // a's keeper started when it served (20) and renews every 333 ms: its last renewal began at 686
    // (a's clock), valid until 1686 on it. b first saw that renewal at its poll of 700 and reads it
    // expired at its poll of 2000 (unchanged for 1295 ms, on b's clock); then inspect, claim. With
    // drift, both move by about 1%.
    const [expectLapsed, expectClaimed] = clocks === 'agreeing' ? [1686, 2025] : [1702.66, 2005.198];
    assert.ok(Math.abs(lapsed - expectLapsed) < 0.001 && Math.abs(claimed - expectClaimed) < 0.001, `a's lease lapsed at ${lapsed}, b claimed at ${claimed}`);
    assert.ok(claimed >= lapsed + LEASE_MARGIN_MS);
    // Stopped, a's runtime still has a's gates open, but its lease is no longer valid: only b serves.
    assert.deepEqual(sim.runtimeServers('a'), [{ node: 'a', epoch: 1n }, { node: 'b', epoch: 2n }]);
    assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
    assert.deepEqual(eventsSince(sim, mark).map((e) => e.slice(0, 6)), [['b', 'takeover', 'failure', 'a', 'completed', 2n]]);
    assert.equal(sim.events.at(-1)?.event.detail, 'acquirer: a served by b (failure: a is silent on both channels: interconnect down, lease unchanged for 1295 ms)');
    // a resumes at 6000: its keeper finds the lease lapsed, the runtime stops a's gates and the
    // core records the fence; a serves nothing of a any more, and learns who does.
    await sim.run(3000);
    const fence = sim.events.slice(mark).map((r) => r.event).find((e) => e.kind === 'fence');
    assert.deepEqual([fence?.node, fence?.filer, fence?.outcome, fence?.epoch], ['a', 'a', 'completed', 1n]);
    assert.match(fence?.detail ?? '', /^stopped serving a at epoch 1: lease expired at [\d.]+ \(noticed at [\d.]+\)$/);
    assert.deepEqual(sim.runtimeServers('a'), [{ node: 'b', epoch: 2n }]);
    assert.equal(sim.phase('a', 'a'), 'idle');
    assert.deepEqual(sim.servers('b'), [{ node: 'b', epoch: 1n }]);
    // Clients' writes went on through b, none acknowledged by a after b's claim.
    assert.equal(sim.volume('a').lastEpoch, 2n);
  });
}

test('failover: a stopped in the middle of releasing resumes after b took a over; the mailbox refuses its stale release', async () => {
  // The release takes 50 ms, so at SIGCONT its completion falls due before any of a's lease
  // timers: a's runtime still has its gates open (they close now) and writes hand-off and record
  // at epoch 1, which the mailbox refuses below the highest claim (takeover.md, "The fencing
  // check"). Without that refusal a would overwrite b's record `taken-over` at epoch 2.
  const sim = await pair({ hooks: { actionDelay: (node, action) => (node === 'a' && action.type === 'release' ? 50 : undefined) } });
  const mark = sim.events.length;
  const id = sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => sim.inflight('a', 'release'));
  sim.pause('a', 12_000); // at 1525
  await sim.run(15_000);
  assert.deepEqual(sim.answers(id).map((r) => r.result), [{ ok: false, reason: 'takeover a: a did not release it in time; nothing was claimed' }]);
  assert.deepEqual(eventsSince(sim, mark), [
    ['b', 'takeover', 'operator', 'a', 'failed', 1n, 1835, 'acquirer: takeover a: a did not release it in time; nothing was claimed'],
    ['b', 'takeover', 'failure', 'a', 'completed', 2n, 2735, 'acquirer: a served by b (failure: a is silent on both channels: interconnect down, lease unchanged for 1295 ms)'],
    // a's release fails (fenced); it tries to take a back at epoch 2, which b holds.
    ['a', 'takeover', 'operator', 'a', 'failed', 2n, 13_535, 'releaser: epoch 2 of a was claimed by b'],
  ]);
  assert.equal(sim.trace.some((line) => line.includes('a done release#6 a@1 -> error fenced: epoch 2 is claimed')), true);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 2n, owner: 'b', state: 'taken-over' }, handoffs: [] });
  assert.deepEqual([sim.servers('a'), sim.phase('a', 'a')], [[{ node: 'b', epoch: 2n }], 'idle']);
});

test('failover: a partition alone (both alive, mailbox fine) takes nothing over in 30 s; status says why', async () => {
  const sim = await pair();
  const mark = sim.events.length;
  sim.partition();
  await sim.run(30_000);
  assert.deepEqual(eventsSince(sim, mark), []);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a']]);
  assert.deepEqual([sim.servers('a'), sim.servers('b')], [[{ node: 'a', epoch: 1n }], [{ node: 'b', epoch: 1n }]]);
  // b probed at peer-down: a's process accepted (it is alive), so only the lease could decide.
  assert.equal(sim.trace.some((line) => line.includes('b done probe#5 a -> not gone (accepted)')), true);
  const status = sim.status('b')!;
  assert.equal(status.peerUp, false);
  assert.match(status.filers.find((f) => f.name === 'a')?.takeover ?? '', /^interconnect down, takeover disabled: a's lease of a is being renewed \(last change \d+ ms ago\)$/);
  await sim.heal().run(1000);
  assert.equal(sim.status('b')?.filers.find((f) => f.name === 'a')?.takeover, undefined);
});

test('failover: a\'s mailbox is unreachable with the link up; a stops serving within its lease, and b takes over only after that', async () => {
  const spy = claimTimes();
  const sim = await pair({ hooks: { afterEffect: spy.hook } }, 0);
  spy.sim = sim;
  const mark = sim.events.length;
  const lapses = validUntilReal(sim, 'a', 'a');
  sim.mailboxDown('a', 10_000);
  await sim.run(3000);
  // a's renewals fail from 1000 on: its lease lapses at 1686 (its last good renewal began at 686),
  // and its runtime stops serving then, before b has even read the lease as expired.
  assert.equal(lapses, 1686);
  assert.deepEqual(eventsSince(sim, mark), [
    ['a', 'fence', undefined, 'a', 'completed', 1n, 1686, 'stopped serving a at epoch 1: lease expired at 1686 (noticed at 1686)'],
    ['b', 'takeover', 'failure', 'a', 'completed', 2n, 2035, 'acquirer: a served by b (failure: the lease of a lapsed (unchanged for 1295 ms): it stopped serving)'],
  ]);
  assert.equal(spy.at.get('b a@2'), 2025);
  assert.ok(spy.at.get('b a@2')! >= lapses + LEASE_MARGIN_MS);
  // a cannot read the leases while its mailbox is away: nothing known, nothing claimed.
  assert.deepEqual(sim.status('a')?.filers.map((f) => [f.name, f.phase, f.lease?.state]), [['a', 'idle', 'unreadable'], ['b', 'idle', 'unreadable']]);
  assert.deepEqual([sim.servers('a'), sim.servers('b')], [[{ node: 'b', epoch: 2n }], [{ node: 'b', epoch: 1n }]]);
  // Back, a reads b's lease renewed and stays idle.
  await sim.run(9000);
  assert.deepEqual(sim.status('a')?.filers.map((f) => [f.name, f.phase, f.lease?.state, f.lease?.owner, f.lease?.epoch]), [['a', 'idle', 'fresh', 'b', 2n], ['b', 'idle', 'fresh', 'b', 1n]]);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('failover: a forced takeover is refused while the lease is renewed, with the reason, and allowed once it expired', async () => {
  // b's filer a is left 'failed' by a planned takeover whose claim failed (nothing written): an
  // idle node would take the filer over by itself at the first expired reading; a failed one
  // waits for the operator, which is what --force is for.
  let failClaim = true;
  const failure = (node: NodeName, action: { type: string; filer: string }) => (failClaim && node === 'b' && action.type === 'claim' && action.filer === 'a' ? 'mailbox write failed (EIO)' : undefined);
  const sim = await pair({ hooks: { actionFailure: failure } });
  const early = sim.operate('b', 'takeover', 'a', 0, true);
  await sim.run(100);
  assert.deepEqual(sim.answers(early).map((r) => [r.from, r.result]), [['b', { ok: false, reason: 'takeover a --force: a\'s lease of a is being renewed (last change 0 ms ago)' }]]);

  const planned = sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => sim.outcome(planned) !== undefined);
  assert.deepEqual(sim.outcome(planned), { ok: false, reason: 'claim of a failed: mailbox write failed (EIO)' });
  assert.equal(sim.phase('b', 'a'), 'failed');
  failClaim = false;
  // a released a and waits for `acquired` until its deadline (b does not tell it the claim
  // failed), then takes it back at epoch 2: a is unserved for the whole operation deadline.
  await sim.runUntil(() => sim.servers('a').length === 1, 2 * OPERATION_DEADLINE_MS);
  assert.deepEqual([sim.nowMs, sim.servers('a')], [11_730, [{ node: 'a', epoch: 2n }]]);

  await sim.run(1000);
  const mark = sim.events.length;
  sim.pause('a', 5000); // at 12730
  await sim.run(2500);
  const filerA = () => sim.status('b')!.filers.find((f) => f.name === 'a')!;
  assert.deepEqual([filerA().phase, filerA().lease?.state, filerA().takeover], ['failed', 'expired', 'failure takeover due']);
  const forced = sim.operate('b', 'takeover', 'a', 0, true);
  await sim.runUntil(() => sim.outcome(forced) !== undefined);
  const result = sim.outcome(forced);
  assert.ok(result?.ok);
  assert.deepEqual([result.event.cause, result.event.epoch, result.event.atMs, result.event.detail], [
    'force', 3n, 15_260, 'acquirer: a served by b (force: a is silent on both channels: interconnect down, lease unchanged for 2395 ms)',
  ]);
  await sim.run(4000);
  assert.deepEqual(eventsSince(sim, mark).map((e) => e.slice(0, 6)), [
    ['b', 'takeover', 'force', 'a', 'completed', 3n],
    ['a', 'fence', undefined, 'a', 'completed', 2n],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 3n }]);
});

test('failover: negotiated: a reports a fault of filer a, and b takes it over in a planned takeover', async () => {
  const sim = await pair({}, 0);
  const mark = sim.events.length;
  sim.fault('a', 'a');
  await sim.run(1000);
  assert.deepEqual(eventsSince(sim, mark), [
    ['a', 'fault', undefined, 'a', 'completed', 1n, 1000, 'injected fault of a'],
    ['b', 'takeover', 'fault', 'a', 'completed', 2n, 1065, 'acquirer: a served by b (fault: a asked for it: injected fault of a)'],
    ['a', 'takeover', 'fault', 'a', 'completed', 2n, 1070, 'releaser: released to b'],
  ]);
  // A planned takeover: drained, released with a hand-off, restored by b.
  assert.deepEqual(sim.events.at(-2)?.event.phases, { check: 10, negotiate: 10, drain: 10, release: 10, claim: 10, serve: 10, total: 60 });
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 2n, owner: 'b', state: 'taken-over' }, handoffs: [1n] });
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('failover: b is killed, then a, alone, is stopped past its leases; a resumed takes both filers back once their leases read expired', async () => {
  // Goal: a node that fenced itself gives way to its partner, but not to a partner it found gone
  // (a give-way keyed only on the filer's own probe left both filers unserved for 10 s).
  const sim = await pair();
  const mark = sim.events.length;
  sim.crash('b');
  await sim.run(500); // a hears peer-down at 1800, finds b gone and takes b over at 1840
  sim.pause('a', 2000); // 2000..4000: a's leases of a and b lapse; it fences both as it resumes
  await sim.run(4000);
  // Fenced at 4000, a reads its own leases expired 1260 ms after their last renewal seen (5305,
  // 5405), as it would any partner's; then inspect, claim, serve: one filer at a time.
  assert.deepEqual(eventsSince(sim, mark).map((e) => e.slice(0, 6)), [
    ['a', 'takeover', 'failure', 'b', 'completed', 2n],
    ['a', 'fence', undefined, 'a', 'completed', 1n],
    ['a', 'fence', undefined, 'b', 'completed', 2n],
    ['a', 'takeover', 'failure', 'a', 'completed', 2n],
    ['a', 'takeover', 'failure', 'b', 'completed', 3n],
  ]);
  assert.deepEqual([sim.servers('a'), sim.servers('b')], [[{ node: 'a', epoch: 2n }], [{ node: 'a', epoch: 3n }]]);
});

const autoGiveback = { delayMs: 3000, attemptsMax: 2, windowMs: 60_000 };

test('failover: automatic giveback: a killed and restarted gets its filer back once the link has been up for delayMs', async () => {
  const sim = await pair({ autoGiveback });
  const mark = sim.events.length;
  sim.crash('a');
  await sim.run(1000);
  await sim.restart('a').run(5000);
  // b took a over at 1840 (probe); a restarted at 2500, heard b at 2800, and its first tick at or
  // after 2800 + 3000 starts the giveback: check, negotiate, drain, release, claim, serve.
  assert.deepEqual(eventsSince(sim, mark).filter((e) => e[0] === 'a'), [
    ['a', 'giveback', 'auto', 'a', 'completed', 3n, 5860, 'acquirer: a served by a (auto: back and healthy for 3000 ms)'],
  ]);
  // b's side of it: the release-request carries the cause, so b records it as automatic too.
  assert.deepEqual(eventsSince(sim, mark).filter((e) => e[0] === 'b').map((e) => e.slice(0, 6)), [
    ['b', 'takeover', 'failure', 'a', 'completed', 2n],
    ['b', 'giveback', 'auto', 'a', 'completed', 3n],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
});

test('failover: automatic giveback: a stopped past its lease and taken over gets its filer back once the link has been up for delayMs', async () => {
  // A defect the simulation found, fixed: lease-lost forgets who serves the filer, and b's
  // `acquired` was lost with the link down, so a never knew that b serves a and never gave it
  // back. Now a learns it from its fresh lease readings of b (6005); run-seeds fails a run whose
  // filer automatic giveback does not bring home.
  const sim = await pair({ autoGiveback }, 0);
  const mark = sim.events.length;
  sim.pause('a', 5000);
  await sim.run(15_000);
  // b takes a over at 2035; a resumes at 6000 and fences; the link is back at 6300, and the tick
  // of 9300 starts the giveback.
  assert.deepEqual(eventsSince(sim, mark).filter((e) => e[0] === 'a'), [
    ['a', 'fence', undefined, 'a', 'completed', 1n, 6000, 'stopped serving a at epoch 1: lease expired at 1686 (noticed at 6000)'],
    ['a', 'giveback', 'auto', 'a', 'completed', 3n, 9360, 'acquirer: a served by a (auto: back and healthy for 3000 ms)'],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
});

test('failover: automatic giveback: a filer that keeps failing on its home node trips the ping-pong guard after attemptsMax', async () => {
  const sim = await pair({ autoGiveback }, 0);
  const mark = sim.events.length;
  for (const at of [1000, 7000, 13_000]) {
    await sim.run(at - sim.nowMs);
    sim.fault('a', 'a');
  }
  await sim.run(5000);
  const gist = (e: unknown[]) => e.slice(0, 6);
  // The filer's fault stands, but the steady time counts from the link coming up, so each
  // giveback follows the fault takeover at once; the third would exceed attemptsMax (2).
  assert.deepEqual(eventsSince(sim, mark).filter((e) => e[0] === 'a').map(gist), [
    ['a', 'fault', undefined, 'a', 'completed', 1n],
    ['a', 'takeover', 'fault', 'a', 'completed', 2n],
    ['a', 'giveback', 'auto', 'a', 'completed', 3n],
    ['a', 'fault', undefined, 'a', 'completed', 3n],
    ['a', 'takeover', 'fault', 'a', 'completed', 4n],
    ['a', 'giveback', 'auto', 'a', 'completed', 5n],
    ['a', 'fault', undefined, 'a', 'completed', 5n],
    ['a', 'takeover', 'fault', 'a', 'completed', 6n],
    ['a', 'giveback', 'auto', 'a', 'failed', undefined],
  ]);
  // When: the first giveback waits for the link to have been up delayMs (300 + 3000, started at
  // the tick of 3300, done at 3360); the later ones start at the first tick after the fault
  // takeover (7070 -> 7100), since nothing restarts that wait; the guard trips at 13100.
  assert.deepEqual(eventsSince(sim, mark).filter((e) => e[1] === 'giveback' && e[0] === 'a').map((e) => e[6]), [3360, 7160, 13_100]);
  assert.equal(sim.events.at(-1)?.event.detail, 'automatic giveback stopped: 2 attempts within 60000 ms (ping-pong guard); a giveback by hand resumes it');
  assert.equal(sim.status('a')?.filers.find((f) => f.name === 'a')?.autoGiveback, sim.events.at(-1)?.event.detail);
  await sim.run(20_000);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 6n }]);
  // A giveback by hand resumes it.
  const id = sim.operate('a', 'giveback', 'a');
  await sim.runUntil(() => sim.outcome(id) !== undefined);
  assert.equal(sim.outcome(id)?.ok, true);
  assert.equal(sim.status('a')?.filers.find((f) => f.name === 'a')?.autoGiveback, undefined);
});

test('failover: automatic giveback: a home node that keeps crashing trips the ping-pong guard after attemptsMax', {
  todo: 'known limitation of node-core.ts: the GivebackGuard lives in the core\'s memory, so each restart of the home node starts it afresh: a node that crashes after every giveback gets its filer back every time (here 4 completed automatic givebacks in 4 rounds, each after b took a over by the probe)',
}, async () => {
  const sim = await pair({ autoGiveback });
  const mark = sim.events.length;
  for (let round = 0; round < 4; round++) {
    sim.crash('a');
    await sim.run(1000);
    await sim.restart('a').run(5000);
  }
  const givebacks = sim.events.slice(mark).filter((r) => r.node === 'a' && r.event.kind === 'giveback').map((r) => r.event.outcome);
  assert.deepEqual(givebacks, ['completed', 'completed', 'failed']);
});
