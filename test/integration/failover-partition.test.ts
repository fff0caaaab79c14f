// Integration: a cut interconnect with both nodes alive (docs/design/fencing.md, "Two channels,
// one decision"). The fault file of node a (TANDEM_FAULT_FILE, src/cluster/runtime/
// fault-injection.ts) makes a's interconnect drop every frame both ways, as a cut cable would.
// The disk channel (a's lease, renewed in the mailbox) says a is alive and serving, so nothing
// moves: no takeover, no epoch change, and a forced takeover is refused with that reason. Once
// the cable is back, the pair reconnects.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import type { EventReport, StatusReport } from '../../src/admin/cluster-service.js';
import { ClusterPair, filerIn, placement } from '../support/cluster-processes.js';

const CUT_MS = 5_000;
/**
 * How long the pair may take to reconnect once the cut ends. The injected cut drops frames at
 * the application, so a handshake begun during the cut is lost for good (a real cable would
 * retransmit it) and the dialer waits out its handshake timeout (5 s) before dialing again.
 */
const RECONNECT_DEADLINE_MS = 15_000;
/** Kinds of event that say a filer moved or stopped being served. */
const MOVES: readonly EventReport['kind'][] = ['takeover', 'giveback', 'fence', 'rollback'];

async function startPair(t: TestContext, prefix: string): Promise<ClusterPair> {
  // Node b first: its start-up finds no claim of filer a, so what it says of a (who serves it, the
  // takeover note) comes from a's lease being renewed. The harder order, pinned.
  const pair = await ClusterPair.start(prefix, { faults: true, startOrder: ['b', 'a'] });
  t.after(() => pair.stop());
  return pair;
}

const nodeIn = (status: StatusReport, name: string) => {
  const node = status.nodes.find((candidate) => candidate.name === name);
  if (node === undefined) throw new Error(`status of ${status.node} has no node ${name}`);
  return node;
};

const partnerCutOff = (partner: string) => (status: StatusReport) => !nodeIn(status, partner).interconnectUp;

test('failover: a cut interconnect for 5 s with both nodes alive moves nothing, and the pair reconnects', async (t) => {
  const pair = await startPair(t, 'failover-cut');
  const epochs = { a: pair.readMailbox('a'), b: pair.readMailbox('b') };
  const atStart = placement(await pair.statusOf('b'));

  pair.setFault('a', { interconnect: 'cut' });
  const cutAtMs = Date.now();
  await pair.waitForStatus('b', "b sees a's interconnect down", partnerCutOff('a'));
  await pair.waitForStatus('a', "a sees b's interconnect down", partnerCutOff('b'));

  // Watch both nodes for the whole cut: every reading must say "alive, takeover disabled".
  const notes = new Set<string>();
  let readings = 0;
  while (Date.now() - cutAtMs < CUT_MS) {
    const [onB, onA] = [await pair.statusOf('b'), await pair.statusOf('a')];
    readings++;
    const a = nodeIn(onB, 'a');
    assert.deepEqual({ up: a.up, interconnectUp: a.interconnectUp }, { up: true, interconnectUp: false }, `b: node a up through its lease, interconnect down\n${JSON.stringify(onB)}`);
    const filerA = filerIn(onB, 'a');
    assert.equal(filerA.phase, 'idle', `b does not serve a\n${JSON.stringify(onB)}`);
    assert.equal(filerA.servedBy, 'a');
    assert.ok(filerA.takeover?.startsWith('interconnect down, takeover disabled'), `b's note on filer a: ${JSON.stringify(filerA.takeover)}`);
    assert.match(filerA.takeover!, /lease of a is being renewed/, `the note names the lease being renewed: ${filerA.takeover}`);
    notes.add(filerA.takeover!.replace(/\d+ ms/, 'N ms'));
    assert.equal(filerIn(onA, 'a').phase, 'serving', `a keeps serving a\n${JSON.stringify(onA)}`);
    assert.equal(filerIn(onB, 'b').phase, 'serving', `b keeps serving b\n${JSON.stringify(onB)}`);
    assert.equal(nodeIn(onA, 'b').up, true, "a sees b up through b's lease");
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  t.diagnostic(`${readings} readings during the cut; b's note: ${[...notes].join(' | ')}`);
  assert.ok(readings >= 3, `the cut was watched (${readings} readings)`);

  pair.setFault('a', null);
  const restoredAtMs = Date.now();
  await pair.waitForStatus('a', 'a reconnected to b', (status) => nodeIn(status, 'b').interconnectUp, RECONNECT_DEADLINE_MS);
  await pair.waitForStatus('b', 'b reconnected to a', (status) => nodeIn(status, 'a').interconnectUp, RECONNECT_DEADLINE_MS);
  t.diagnostic(`reconnected ${Date.now() - restoredAtMs} ms after the cut ended`);
  await pair.waitUntilSettled();

  for (const node of ['a', 'b']) {
    const moved = (await pair.events(node)).filter((event) => event.atMs >= cutAtMs && MOVES.includes(event.kind));
    assert.deepEqual(moved, [], `no takeover, giveback or fence on ${node}`);
  }
  for (const filer of ['a', 'b'] as const) {
    const now = pair.readMailbox(filer);
    assert.deepEqual({ epoch: now.epoch, owner: now.owner }, { epoch: epochs[filer].epoch, owner: epochs[filer].owner }, `filer ${filer}'s epoch and owner are unchanged`);
  }
  assert.deepEqual(placement(await pair.statusOf('b')), atStart);
});

test('failover: a forced takeover while the interconnect is cut and a renews its lease is refused, naming the lease', async (t) => {
  const pair = await startPair(t, 'failover-force');
  const atStart = placement(await pair.statusOf('b'));
  pair.setFault('a', { interconnect: 'cut' });
  await pair.waitForStatus('b', "b sees a's interconnect down and a's lease fresh", (status) =>
    partnerCutOff('a')(status) && filerIn(status, 'a').lease?.state === 'fresh');

  const outcome = await pair.takeover('a', 'b', { force: true });
  t.diagnostic(`refused: ${JSON.stringify(outcome.report)}`);
  assert.equal(outcome.code, 1, `exit status 1: ${JSON.stringify(outcome.report)} ${outcome.stderr}`);
  assert.equal(outcome.report.ok, false);
  const reason = outcome.report.ok ? '' : outcome.report.reason;
  assert.match(reason, /--force/);
  assert.match(reason, /a's lease of a is being renewed/, reason);

  const onB = await pair.statusOf('b');
  assert.deepEqual(placement(onB), atStart, 'nothing moved');
  assert.equal(filerIn(await pair.statusOf('a'), 'a').phase, 'serving', 'a still serves a');
  assert.equal(nodeIn(onB, 'a').interconnectUp, false, 'the interconnect is still cut');
  assert.deepEqual((await pair.events('b')).filter((event) => MOVES.includes(event.kind)), []);
});
