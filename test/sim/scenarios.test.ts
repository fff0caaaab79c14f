// Scenarios: the refusals and faults of a takeover (docs/design/takeover.md, "What can go wrong,
// and the end state"), each as one deterministic schedule through the cluster simulator with
// exact expectations on the replies, the recorded events and the end state. Every step of every
// scenario also passes the simulator's invariants (at most one server per filer, on a valid
// lease, claims only grow, a node serves only at its own highest claim, statuses match the
// runtime). The failure takeover (fencing.md) has its own file, failover-scenarios.test.ts; here
// it appears where a crash in a planned operation now ends in one.
//
// The schedule: an action takes 10 ms, a message 5 ms, a lease read or write 5 ms, a broken or
// restored link reaches the cores after 300 ms, ticks and lease polls every 100 ms, clocks all
// agree; both nodes boot at 0 and the scenario begins at 1000 with a serving a at epoch 1 and b
// serving b at epoch 1. A node's probe at peer-down finds its partner gone (refused) exactly when
// the partner's process is not running, unless a scenario says its machine is down (timed out).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CommandResult } from '../../src/cluster/core/types.js';
import { ClusterSim, DRAIN_DEADLINE_MS, OPERATION_DEADLINE_MS, type Recorded, type Reply, type SimHooks } from './cluster-sim.js';

const pair = (hooks: SimHooks = {}): Promise<ClusterSim> => new ClusterSim({ seed: 1, hooks }).boot();

/** The events recorded since `mark`, with their fields as plain data. */
function eventsSince(sim: ClusterSim, mark: number): Recorded['event'][] {
  return sim.events.slice(mark).map(({ event }) => event);
}

/** The answers to a command: who answered, and what. */
const answers = (sim: ClusterSim, id: string): [Reply['from'], CommandResult][] => sim.answers(id).map((r) => [r.from, r.result]);

/** Runs until the command is answered, then `thenMs` more. */
async function settle(sim: ClusterSim, id: string, thenMs = 0): Promise<ClusterSim> {
  await sim.runUntil(() => sim.outcome(id) !== undefined, 3 * OPERATION_DEADLINE_MS);
  return sim.run(thenMs);
}

function assertBooted(sim: ClusterSim): void {
  assert.equal(sim.nowMs, 1000);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 1n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'b', epoch: 1n }]);
  assert.deepEqual(sim.events.map(({ node, event }) => [node, event.kind, event.filer, event.outcome, event.epoch]), [
    ['a', 'start', 'a', 'completed', 1n],
    ['b', 'start', 'b', 'completed', 1n],
  ]);
}

/** A planned takeover of a by b, run to the end. */
async function takeOverA(sim: ClusterSim): Promise<void> {
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id, 100);
  assert.equal(sim.outcome(id)?.ok, true);
}

test('takeover: a planned takeover and giveback record every phase, consistent with the clock', async () => {
  // Goal: the happy path of both operations, with exact phase timings and mailbox states.
  const sim = await pair();
  assertBooted(sim);
  const takeover = sim.operate('b', 'takeover', 'a');
  await settle(sim, takeover, 100);
  const [tReply] = sim.answers(takeover);
  assert.deepEqual(tReply?.result, {
    ok: true,
    event: {
      atMs: 1060,
      node: 'b',
      filer: 'a',
      kind: 'takeover',
      outcome: 'completed',
      epoch: 2n,
      cause: 'operator',
      phases: { check: 10, negotiate: 10, drain: 10, release: 10, claim: 10, serve: 10, total: 60 },
      detail: 'acquirer: a served by b',
    },
  });
  // total is the virtual time from the command (1000) to the reply.
  assert.equal(tReply.atMs - 1000, 60);
  assert.deepEqual(eventsSince(sim, 2), [
    tReply.result.ok ? tReply.result.event : undefined,
    // The releaser's event carries the acquirer's timings, which `acquired` brought.
    { atMs: 1065, node: 'a', filer: 'a', kind: 'takeover', cause: 'operator', outcome: 'completed', epoch: 2n, phases: { check: 10, negotiate: 10, drain: 10, release: 10, claim: 10, serve: 10, total: 60 }, detail: 'releaser: released to b' },
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 2n, owner: 'b', state: 'taken-over' }, handoffs: [1n] });
  assert.equal(sim.phase('a', 'a'), 'idle');
  // The lease went with the filer: b's keeper started when b served (1050), timed from its claim
  // (1040), and wrote its first record (its renewal at 1383 is not due yet); a released its own.
  assert.deepEqual(sim.lease('a'), { filer: 'a', owner: 'b', epoch: 2n, leaseMs: 1000, sequence: 1n });
  assert.equal(sim.keeperOf('b', 'a')?.validUntilMs, 1050 + 1000);

  const giveback = sim.operate('a', 'giveback', 'a');
  const start = sim.nowMs;
  await settle(sim, giveback, 100);
  const [gReply] = sim.answers(giveback);
  assert.equal(gReply?.from, 'a');
  assert.ok(gReply.result.ok);
  assert.deepEqual(gReply.result.event.phases, { check: 10, negotiate: 10, drain: 10, release: 10, claim: 10, serve: 10, total: 60 });
  assert.equal(gReply.result.event.atMs - start, 60);
  assert.equal(gReply.result.event.kind, 'giveback');
  assert.equal(gReply.result.event.epoch, 3n);
  assert.deepEqual(eventsSince(sim, 4).map((e) => [e.node, e.kind, e.outcome, e.epoch, e.detail]), [
    ['a', 'giveback', 'completed', 3n, 'acquirer: a served by a'],
    ['b', 'giveback', 'completed', 3n, 'releaser: released to a'],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
  assert.deepEqual(sim.mailbox('a').record, { epoch: 3n, owner: 'a', state: 'normal' });
  assert.deepEqual(sim.mailbox('a').handoffs, [1n, 2n]);
});

test('takeover: refused for an unknown filer, and the reason names it', async () => {
  const sim = await pair();
  const id = sim.operate('b', 'takeover', 'zzz');
  await sim.run(100);
  assert.deepEqual(answers(sim, id), [['b', { ok: false, reason: 'unknown filer "zzz"' }]]);
  assert.equal(sim.events.length, 2);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 1n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a']]);
});

test('takeover: refused for a filer already taken over; nothing changes', async () => {
  // The partner serves it: the command is forwarded to the home node, which refuses.
  const sim = await pair();
  await takeOverA(sim);
  const mark = sim.events.length;
  const viaPartner = sim.operate('b', 'takeover', 'a');
  const viaHome = sim.operate('a', 'takeover', 'a');
  await sim.run(1000);
  const refusal = { ok: false, reason: 'takeover a: it is already taken over by b at epoch 2' };
  assert.deepEqual(answers(sim, viaPartner), [['b', { ok: false, forward: true }], ['a', refusal]]);
  assert.deepEqual(answers(sim, viaHome), [['a', refusal]]);
  assert.deepEqual(eventsSince(sim, mark), []);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a'], [2n, 'b']]);
});

test('giveback: refused for a filer its home serves; nothing changes', async () => {
  const sim = await pair();
  const viaHome = sim.operate('a', 'giveback', 'a');
  const viaPartner = sim.operate('b', 'giveback', 'a');
  await sim.run(1000);
  // b read the mailbox at start-up before a claimed its filer, but a's lease readings since have
  // told it who serves a, and at which epoch.
  const refusal = { ok: false, reason: 'giveback a: it is already served by its home node a at epoch 1' };
  assert.deepEqual(answers(sim, viaHome), [['a', { ok: false, forward: true }], ['b', refusal]]);
  assert.deepEqual(answers(sim, viaPartner), [['b', refusal]]);
  assert.equal(sim.events.length, 2);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 1n }]);
});

test('giveback: refused while the home node is down; the partner keeps serving', async () => {
  // Crashed home: the partner answers `forward`, and the admin layer finds the home down.
  const sim = await pair();
  await takeOverA(sim);
  await sim.crash('a').run(1000);
  const mark = sim.events.length;
  const id = sim.operate('b', 'giveback', 'a');
  await sim.run(1000);
  assert.deepEqual(answers(sim, id), [['b', { ok: false, forward: true }], ['admin', { ok: false, reason: 'node a is down' }]]);
  assert.deepEqual(eventsSince(sim, mark), []);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a'], [2n, 'b']]);
});

test('giveback: refused by the home node while its partner is unreachable', async () => {
  // Home up but partitioned: the home node itself refuses, the partner down.
  const sim = await pair();
  await takeOverA(sim);
  await sim.partition().run(1000);
  assert.equal(sim.status('a')?.peerUp, false);
  const id = sim.operate('a', 'giveback', 'a');
  await sim.run(1000);
  // The hint names the forced takeover, which the home node may use too once b's lease lapsed.
  assert.deepEqual(answers(sim, id), [['a', { ok: false, reason: 'giveback a: partner b is down or unreachable (a forced takeover, --force, is allowed once its lease has expired)' }]]);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  // Healed, the same giveback goes through.
  await sim.heal().run(1000);
  const again = sim.operate('a', 'giveback', 'a');
  await settle(sim, again);
  assert.equal(sim.outcome(again)?.ok, true);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
});

test('takeover: a second command while one runs is refused as busy, on either node', async () => {
  // The drain runs to its deadline, so the first takeover is still running when the others come.
  const sim = await pair({ drainInProgress: () => 1 });
  const first = sim.operate('b', 'takeover', 'a');
  await sim.run(50);
  assert.equal(sim.phase('b', 'a'), 'waiting');
  assert.equal(sim.phase('a', 'a'), 'draining');
  const sameFiler = sim.operate('b', 'takeover', 'a');
  const onReleaser = sim.operate('a', 'takeover', 'b');
  const drainingFiler = sim.operate('a', 'takeover', 'a');
  await sim.run(10);
  const busy = (kind: string, filer: string) => ({ ok: false, reason: `${kind} ${filer}: another operation is running (takeover of a)` });
  assert.deepEqual(answers(sim, sameFiler), [['b', busy('takeover', 'a')]]);
  assert.deepEqual(answers(sim, onReleaser), [['a', busy('takeover', 'b')]]);
  assert.deepEqual(answers(sim, drainingFiler), [['a', busy('takeover', 'a')]]);
  await settle(sim, first);
  assert.equal(sim.outcome(first)?.ok, true);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'b', epoch: 1n }]);
});

test('takeover: the drain deadline passes with calls in progress; the takeover completes and says so', async () => {
  const sim = await pair({ drainInProgress: () => 2 });
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id, 100);
  const result = sim.outcome(id);
  assert.ok(result?.ok);
  assert.equal(result.event.detail, 'acquirer: a served by b; drain deadline passed with 2 calls in progress');
  assert.deepEqual(result.event.phases, { check: 10, negotiate: 10, drain: DRAIN_DEADLINE_MS, release: 10, claim: 10, serve: 10, total: 2050 });
  assert.equal(sim.trace.some((line) => line.includes('released(b-1 a@1 undrained 2)')), true);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('takeover: the release-request is lost; the acquirer gives up at its deadline and the server keeps serving', async () => {
  const sim = await pair({ onSend: (_from, message) => (message.type === 'release-request' ? 'drop' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id);
  assert.deepEqual(answers(sim, id), [['b', { ok: false, reason: 'takeover a: a did not release it in time; nothing was claimed' }]]);
  // The deadline is checked on the first tick at or after command + 10 s; the inspect takes 10 ms.
  assert.equal(sim.replies.get(id)?.atMs, 1000 + OPERATION_DEADLINE_MS + 10);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 1n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a']]);
  assert.equal(sim.phase('b', 'a'), 'idle');
});

test('takeover: `released` is lost; the acquirer completes from the mailbox at its deadline', async () => {
  const sim = await pair({ onSend: (_from, message) => (message.type === 'released' ? 'drop' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id, 100);
  const result = sim.outcome(id);
  assert.ok(result?.ok);
  assert.equal(result.event.atMs, 1000 + OPERATION_DEADLINE_MS + 30);
  assert.deepEqual(result.event.phases, { check: 10, negotiate: 10, claim: 10, serve: 10, total: OPERATION_DEADLINE_MS + 30 });
  assert.deepEqual(sim.events.slice(-2).map(({ node, event }) => [node, event.kind, event.outcome, event.detail]), [
    ['b', 'takeover', 'completed', 'acquirer: a served by b'],
    ['a', 'takeover', 'completed', 'releaser: released to b'],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

for (const when of ['after accepting', 'during the drain'] as const) {
  test(`takeover: the releasing node crashes ${when}; the takeover fails with nothing claimed, then b takes a over by failure`, async () => {
    const sim = await pair({ drainInProgress: () => 1 });
    const id = sim.operate('b', 'takeover', 'a');
    // After accepting: the acceptance is still on its way. During the drain: b has it.
    await sim.runUntil(() => (when === 'after accepting' ? sim.phase('a', 'a') === 'draining' : sim.phase('b', 'a') === 'waiting'));
    assert.equal(sim.phase('b', 'a'), when === 'after accepting' ? 'negotiating' : 'waiting');
    sim.crash('a');
    assert.deepEqual(sim.servers('a'), []);
    await settle(sim, id);
    // b hears of the crash after 300 ms and reads the mailbox: a never released.
    assert.deepEqual(answers(sim, id), [['b', { ok: false, reason: 'takeover a: a did not release it in time; nothing was claimed' }]]);
    const failed = sim.events.at(-1)!.event;
    assert.deepEqual([failed.node, failed.kind, failed.outcome, failed.epoch], ['b', 'takeover', 'failed', 1n]);
    // Crashed at 1015 (after accepting) or 1020 (b has the acceptance); heard 300 ms later.
    assert.deepEqual(failed.phases, { check: 10, negotiate: 10, total: when === 'after accepting' ? 325 : 330 });
    assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a']], record: { epoch: 1n, owner: 'a', state: 'normal' }, handoffs: [] });
    assert.equal(sim.phase('b', 'a'), 'idle');
    // Then b takes a over by failure, with no operator, without waiting for a's lease: a's lease
    // readings had told b that a serves a at epoch 1, so at peer-down b also probed a and found
    // its process gone (while its operation was still running: the failure takeover waits for the
    // next lease reading, 1405); then inspect, claim and serve: at 1435 whichever the crash's moment.
    await sim.run(5000);
    assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
    const failover = sim.events.at(-1)!.event;
    assert.deepEqual([failover.node, failover.kind, failover.cause, failover.outcome, failover.epoch, failover.atMs, failover.detail], [
      'b', 'takeover', 'failure', 'completed', 2n, 1435, 'acquirer: a served by b (failure: a\'s process is gone (refused))',
    ]);
    assert.deepEqual(failover.phases, { detect: when === 'after accepting' ? 90 : 85, check: 10, claim: 10, serve: 10, total: 30 });
    // a returns and finds its filer taken over: it stays idle until a giveback.
    await sim.restart('a').run(1000);
    assert.equal(sim.phase('a', 'a'), 'idle');
    assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  });
}

test('takeover: the releasing node crashes after releasing, before sending `released`; the takeover completes', async () => {
  const sim = await pair({ afterEffect: (node, action) => (node === 'a' && action.type === 'release' ? 'crash' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id, 100);
  assert.equal(sim.isAlive('a'), false);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 2n, owner: 'b', state: 'taken-over' }, handoffs: [1n] });
  const result = sim.outcome(id);
  assert.ok(result?.ok);
  // The crash at 1035 reaches b at 1335; the mailbox says released with a hand-off: b claims.
  assert.deepEqual(result.event, {
    atMs: 1365,
    node: 'b',
    filer: 'a',
    kind: 'takeover',
    cause: 'operator',
    outcome: 'completed',
    epoch: 2n,
    phases: { check: 10, negotiate: 10, claim: 10, serve: 10, total: 365 },
    detail: 'acquirer: a served by b',
  });
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  // a returns and finds its filer taken over: it stays idle.
  await sim.restart('a').run(1000);
  assert.equal(sim.phase('a', 'a'), 'idle');
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('takeover: the releasing node restarts at once after releasing; it takes its filer back and the takeover fails with nothing claimed', async () => {
  const sim = await pair({ afterEffect: (node, action) => (node === 'a' && action.type === 'release' ? 'crash' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => !sim.isAlive('a'));
  sim.restart('a');
  await settle(sim, id, 100);
  // a's start-up finds its own release unacquired and claims epoch 2 before b hears of the crash.
  assert.deepEqual(answers(sim, id), [['b', { ok: false, reason: 'takeover a: a did not release it in time; nothing was claimed' }]]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a').claims, [[1n, 'a'], [2n, 'a']]);
  assert.deepEqual(sim.mailbox('a').record, { epoch: 2n, owner: 'a', state: 'normal' });
});

test('takeover: the acquiring node crashes after the release; the releaser rolls back at the next epoch when it hears, then takes the dead node\'s filer over', async () => {
  const sim = await pair();
  const id = sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => sim.phase('a', 'a') === 'released'); // `released` is on its way to b
  const mark = sim.events.length;
  sim.crash('b');
  await sim.run(1000);
  assert.deepEqual(sim.answers(id), []);
  // The crash reaches a 300 ms later: a is waiting in 'released', reads the mailbox, takes a back.
  assert.deepEqual(eventsSince(sim, mark), [
    {
      atMs: 1035 + 300 + 30,
      node: 'a',
      filer: 'a',
      kind: 'rollback',
      cause: 'operator',
      outcome: 'rolled-back',
      epoch: 2n,
      // The claim phase starts when the releaser decides to take the filer back (after the
      // 300 ms the crash took to be heard), so it measures the claim itself.
      phases: { drain: 10, release: 10, claim: 10, serve: 10, total: 350 },
      detail: 'releaser: took a back at epoch 2: the partner did not acquire it',
    },
    // At peer-down a also probed b (its lease readings name b serving b) and found it gone; its
    // operation over, a takes b over at the next reading of b's lease (1405): inspect, claim, serve.
    {
      atMs: 1435,
      node: 'a',
      filer: 'b',
      kind: 'takeover',
      cause: 'failure',
      outcome: 'completed',
      epoch: 2n,
      phases: { detect: 70, check: 10, claim: 10, serve: 10, total: 30 },
      detail: 'acquirer: b served by a (failure: b\'s process is gone (refused))',
    },
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'a']], record: { epoch: 2n, owner: 'a', state: 'normal' }, handoffs: [1n] });
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('b'), { claims: [[1n, 'b'], [2n, 'a']], record: { epoch: 2n, owner: 'a', state: 'taken-over' }, handoffs: [] });
  // b returns and finds both filers served by a: it stays idle until a giveback.
  await sim.restart('b').run(1000);
  assert.deepEqual([sim.phase('b', 'a'), sim.phase('b', 'b')], ['idle', 'idle']);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('b').claims, [[1n, 'b'], [2n, 'a']]);
});

test('takeover: the acquiring node crashes during the release; the releaser rolls back at its deadline, then takes the dead node\'s filer over', async () => {
  // The crash is heard while a still drains (ignored then), so a waits for its deadline.
  const sim = await pair({ drainInProgress: () => 1 });
  sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => sim.phase('b', 'a') === 'waiting');
  const acceptedAt = 1015;
  sim.crash('b');
  await sim.run(3000);
  assert.equal(sim.phase('a', 'a'), 'released');
  assert.deepEqual(sim.servers('a'), []);
  await sim.run(OPERATION_DEADLINE_MS);
  const [rollback, failover] = sim.events.slice(-2).map((r) => r.event);
  assert.ok(rollback !== undefined && failover !== undefined);
  assert.deepEqual([rollback.node, rollback.kind, rollback.outcome, rollback.epoch, rollback.detail], [
    'a',
    'rollback',
    'rolled-back',
    2n,
    'releaser: took a back at epoch 2: the partner did not acquire it',
  ]);
  // The first tick at or after the deadline (ticks at multiples of 100 ms), then inspect, claim, serve.
  const deadline = acceptedAt + OPERATION_DEADLINE_MS;
  assert.equal(rollback.atMs, Math.ceil(deadline / 100) * 100 + 30);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 2n }]);
  // Only then, its operation over, does a take b's filer over by failure (one operation at a
  // time): b's lease had long lapsed, but filer b went unserved for the whole deadline.
  assert.deepEqual([failover.node, failover.kind, failover.cause, failover.filer, failover.epoch, failover.atMs, failover.detail], [
    'a', 'takeover', 'failure', 'b', 2n, 11_235,
    'acquirer: b served by a (failure: b is silent on both channels: interconnect down, lease unchanged for 10095 ms)',
  ]);
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
});

/** b crashes right after its claim of a (epoch 2) lands: a is left in 'released', waiting for `acquired`. */
async function acquirerCrashesAfterClaiming(): Promise<{ sim: ClusterSim; id: string }> {
  const sim = await pair({ afterEffect: (node, action) => (node === 'b' && action.type === 'claim' && action.filer === 'a' ? 'crash' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await sim.runUntil(() => !sim.isAlive('b'));
  return { sim, id };
}

/** b's machine is down, not just its process: a's probe refuses nothing, it times out. */
const machineDown: SimHooks = { probe: () => ({ gone: false, detail: 'timed out' }) };

test('takeover: the acquiring node is killed after claiming; the releaser sees the claim, then takes both filers over as its probe found b gone', async () => {
  const { sim, id } = await acquirerCrashesAfterClaiming();
  sim.hooks = {};
  const mark = sim.events.length;
  await sim.run(1000);
  assert.deepEqual(sim.answers(id), []);
  // b crashed at 1040; a hears at 1340 and inspects (b claimed epoch 2: a's part is over). It
  // probes too: its readings of a's lease named b's claim (fresh b@2 from 1105) and b's lease b,
  // so a knows b holds both, and b's process is gone. Its operation over, a claims each filer at
  // the next reading of its lease (1405, then 1505, one operation at a time) and serves it.
  assert.deepEqual(eventsSince(sim, mark).map((e) => [e.node, e.kind, e.cause, e.filer, e.epoch, e.atMs, e.detail]), [
    ['a', 'takeover', 'operator', 'a', 2n, 1360, 'releaser: b claimed epoch 2; no acknowledgement came'],
    // A home node taking its own filer back by failure records a takeover "of a by a".
    ['a', 'takeover', 'failure', 'a', 3n, 1435, 'acquirer: a served by a (failure: b\'s process is gone (refused))'],
    ['a', 'takeover', 'failure', 'b', 2n, 1535, 'acquirer: b served by a (failure: b\'s process is gone (refused))'],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
  // a's own hand-off of epoch 1 is not restored: the failover path restores one only when the
  // highest claim was released with a hand-off, and here the highest claim is b's.
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b'], [3n, 'a']], record: { epoch: 3n, owner: 'a', state: 'normal' }, handoffs: [1n] });
  assert.equal(sim.trace.some((line) => /serve#\d+ a@3 normal handoff/.test(line)), false);
  // b returns and finds both filers served by a: it stays idle until a giveback.
  await sim.restart('b').run(1000);
  assert.deepEqual([sim.phase('b', 'a'), sim.phase('b', 'b')], ['idle', 'idle']);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
  assert.deepEqual(sim.mailbox('b'), { claims: [[1n, 'b'], [2n, 'a']], record: { epoch: 2n, owner: 'a', state: 'taken-over' }, handoffs: [] });
});

test('takeover: the acquiring node\'s machine fails after claiming (the probe cannot tell); the releaser stands aside until it returns', async () => {
  const { sim, id } = await acquirerCrashesAfterClaiming();
  sim.hooks = machineDown;
  const mark = sim.events.length;
  await sim.run(1000);
  assert.deepEqual(sim.answers(id), []);
  assert.deepEqual(eventsSince(sim, mark).map((e) => [e.node, e.kind, e.outcome, e.epoch, e.detail]), [
    ['a', 'takeover', 'completed', 2n, 'releaser: b claimed epoch 2; no acknowledgement came'],
  ]);
  assert.equal(sim.trace.some((line) => line.includes('a done probe#7 a -> not gone (timed out)')), true);
  assert.equal(sim.phase('a', 'a'), 'idle');
  assert.deepEqual(sim.servers('a'), []);
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b']], record: { epoch: 1n, owner: 'a', state: 'released' }, handoffs: [1n] });
  // b returns before its claim reads expired (2400): its claim stands and the release was never
  // acquired, so it claims anew and serves.
  await sim.restart('b').run(1000);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 3n }]);
  assert.deepEqual(sim.mailbox('a').record, { epoch: 3n, owner: 'b', state: 'taken-over' });
});

test('takeover: the acquiring node\'s machine fails after claiming and stays down; the releaser takes its filer back once the claim reads expired', async () => {
  // b's claim of epoch 2 never got a lease: a's observer times it from its first sighting (1105)
  // like a lease (fencing.md), and at the poll of 2400 it has been unchanged for 1295 ms.
  const { sim } = await acquirerCrashesAfterClaiming();
  sim.hooks = machineDown;
  const mark = sim.events.length;
  await sim.run(5000);
  assert.deepEqual(eventsSince(sim, mark).map((e) => [e.node, e.kind, e.cause, e.filer, e.epoch, e.atMs, e.detail]), [
    ['a', 'takeover', 'operator', 'a', 2n, 1360, 'releaser: b claimed epoch 2; no acknowledgement came'],
    ['a', 'takeover', 'failure', 'a', 3n, 2435, 'acquirer: a served by a (failure: b is silent on both channels: interconnect down, lease unchanged for 1295 ms)'],
    // b's own filer next (one operation at a time), its lease unrenewed since the crash.
    ['a', 'takeover', 'failure', 'b', 2n, 2535, 'acquirer: b served by a (failure: b is silent on both channels: interconnect down, lease unchanged for 1395 ms)'],
  ]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'a', epoch: 2n }]);
  // Here too a's own hand-off of epoch 1 is not restored (the highest claim is b's).
  assert.deepEqual(sim.mailbox('a'), { claims: [[1n, 'a'], [2n, 'b'], [3n, 'a']], record: { epoch: 3n, owner: 'a', state: 'normal' }, handoffs: [1n] });
  assert.equal(sim.trace.some((line) => /serve#\d+ a@3 normal handoff/.test(line)), false);
});

test('takeover: a restarted home node finds its filer taken over, stays idle until giveback, and a giveback returns it', async () => {
  const sim = await pair();
  await takeOverA(sim);
  await sim.crash('a').run(1000);
  await sim.restart('a').run(1000);
  assert.equal(sim.phase('a', 'a'), 'idle');
  const status = sim.status('a')?.filers.find((f) => f.name === 'a');
  assert.deepEqual({ ...status, lease: undefined }, { name: 'a', home: 'a', phase: 'idle', epoch: 2n, servedBy: 'b', failure: undefined, lease: undefined, takeover: undefined, fault: undefined, autoGiveback: undefined });
  // Its lease readings show b renewing.
  assert.deepEqual({ ...status?.lease, unchangedForMs: undefined }, { state: 'fresh', owner: 'b', epoch: 2n, unchangedForMs: undefined });
  await sim.run(2 * OPERATION_DEADLINE_MS);
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
  assert.deepEqual(sim.servers('b'), [{ node: 'b', epoch: 1n }]);
  const id = sim.operate('b', 'giveback', 'a');
  await settle(sim, id);
  assert.deepEqual(answers(sim, id).map(([from, result]) => [from, result.ok]), [['b', false], ['a', true]]);
  assert.deepEqual(sim.servers('a'), [{ node: 'a', epoch: 3n }]);
  assert.deepEqual(sim.mailbox('a').record, { epoch: 3n, owner: 'a', state: 'normal' });
});

// ---- defects the simulation found in node-core.ts (seed 31), fixed; kept as regressions ----

test('takeover: a duplicated release-request does not abort the takeover', async () => {
  const sim = await pair({ onSend: (_from, message) => (message.type === 'release-request' ? 'duplicate' : undefined) });
  const id = sim.operate('b', 'takeover', 'a');
  await settle(sim, id, 100);
  assert.equal(sim.outcome(id)?.ok, true, JSON.stringify(sim.outcome(id), (_key, value: unknown) => (typeof value === 'bigint' ? String(value) : value)));
  assert.deepEqual(sim.servers('a'), [{ node: 'b', epoch: 2n }]);
});

test('takeover: a start-up claim of the other filer does not count as the operation\'s claim phase', async () => {
  // b's start-up claim of its own filer b completes at 45, while b's takeover of a negotiates
  // (40..50): the takeover's negotiate phase must still read 10 ms.
  const sim = new ClusterSim({ seed: 1, detectMs: 20, hooks: { actionDelay: (node, action) => (node === 'b' && action.type === 'claim' && action.filer === 'b' ? 35 : undefined) } });
  const id = sim.operate('b', 'takeover', 'a', 30);
  await sim.boot();
  const result = sim.outcome(id);
  assert.ok(result?.ok);
  assert.deepEqual(result.event.phases, { check: 10, negotiate: 10, drain: 10, release: 10, claim: 10, serve: 10, total: 60 });
});
