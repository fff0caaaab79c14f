// Integration: planned takeover and giveback between two real `tandem node` processes on
// loopback, driven through the `tandem` CLI (docs/design/takeover.md). What a client sees must
// not change but for a pause: its handles, the write verifier, the replies to non-idempotent
// calls it retransmits, and every write acknowledged to it. Refusals change nothing, and a
// home node restarted while its filer is taken over waits for the giveback.

import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as nfs from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import { Nfsv3CreateHow, Nfsv3DirOpArgs } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { NFSPROC3, nfsstat3 } from '../../src/nfs3/constants.js';
import { ClusterPair, filerIn, placement, type CommandOutcome } from '../support/cluster-processes.js';
import { ProbeRun } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';
import {
  decodeNfsReply,
  encodeCall,
  encodeNfsArgs,
  fh,
  nextXid,
  NfsClient,
  NFS_PROGRAM,
  NFS_VERSION,
  ROOT,
  sattr,
  UNSTABLE,
} from '../support/rpc-client.js';

const PROBE_SECONDS = 8;

/** Starts a pair for one test; the test's end stops it (after anything registered later). */
async function startPair(t: TestContext, prefix: string): Promise<ClusterPair> {
  const pair = await ClusterPair.start(prefix);
  t.after(() => pair.stop());
  return pair;
}

/** A takeover or giveback that completed: exit 0 and an ok report. */
function assertCompleted(outcome: CommandOutcome, what: string): void {
  assert.equal(outcome.code, 0, `${what} exits 0: ${JSON.stringify(outcome.report)} ${outcome.stderr}`);
  assert.ok(outcome.report.ok, `${what} reports ok: ${JSON.stringify(outcome.report)}`);
  assert.equal(outcome.report.event.outcome, 'completed');
}

/** A refused takeover or giveback: exit 1 and the reason; returns the reason. */
function assertRefused(outcome: CommandOutcome, what: string): string {
  assert.equal(outcome.code, 1, `${what} exits 1: ${JSON.stringify(outcome.report)} ${outcome.stderr}`);
  assert.ok(!outcome.report.ok, `${what} is refused: ${JSON.stringify(outcome.report)}`);
  return outcome.report.reason;
}

/** Where filer `name` is, as `status --json` (asking `node` first) reports it. */
async function where(pair: ClusterPair, name: string, node?: string) {
  const filer = filerIn(await pair.status(node), name);
  return { servedBy: filer.servedBy, state: filer.state, epoch: filer.epoch };
}


/** A GUARDED CREATE of `name` in `dir` as a whole call message with a fixed xid, to send more than once. */
function guardedCreate(dir: Uint8Array, name: string): Buffer {
  const request = new nfs.Nfsv3CreateRequest(new Nfsv3DirOpArgs(fh(dir), name), new Nfsv3CreateHow(1, sattr({ mode: 0o644 })));
  const args = encodeNfsArgs(NFSPROC3.CREATE, request);
  return encodeCall({ program: NFS_PROGRAM, version: NFS_VERSION, procedure: NFSPROC3.CREATE, xid: nextXid(), credential: ROOT, args });
}

/** Connects to filer `filer` (whoever serves it now), runs `work`, and closes. */
async function onFiler<T>(pair: ClusterPair, filer: string, work: (client: NfsClient) => Promise<T>): Promise<T> {
  const client = await NfsClient.connect(pair.filerPort, { host: pair.addressOf(filer) });
  try {
    return await work(client);
  } finally {
    await client.close();
  }
}

test('takeover: a probe runs through takeover and giveback with 0 errors, 0 stale handles and 0 lost writes', async (t) => {
  // Goal: a client under load across a takeover and a giveback sees a pause and nothing else.
  const pair = await startPair(t, 'takeover-probe');
  const url = filerIn(await pair.status(), 'a').urls[0]!;
  const probe = new ProbeRun(await nfsbench(), url, { rate: 2000, maxSecs: PROBE_SECONDS });
  t.after(() => probe.kill());

  await probe.untilSecond(2);
  assertCompleted(await pair.takeover('a'), 'takeover a');
  assert.deepEqual(await where(pair, 'a'), { servedBy: 'b', state: 'taken-over', epoch: '2' });

  await probe.untilSecond(probe.second + 2);
  assertCompleted(await pair.giveback('a'), 'giveback a');
  assert.deepEqual(await where(pair, 'a'), { servedBy: 'a', state: 'normal', epoch: '3' });

  const { code, stdout, values: result } = await probe.ended();
  t.diagnostic(`max_pause_ms=${result.get('max_pause_ms')} reconnects=${result.get('reconnects')} retransmits=${result.get('retransmits')} jukebox=${result.get('jukebox')} ops=${result.get('ops')}`);
  assert.equal(result.get('errors'), '0', stdout);
  assert.equal(result.get('stale_handles'), '0', stdout);
  assert.equal(result.get('lost_acked_writes'), '0', stdout);
  assert.equal(result.get('verified'), '1', stdout);
  assert.equal(result.get('verf_changes'), '0', `a planned takeover keeps the write verifier\n${stdout}`);
  assert.equal(code, 0, stdout);
});

test('takeover: a non-idempotent request executed by a before the takeover gets its original reply from b after it', async (t) => {
  // Goal: the duplicate-request cache crosses the takeover and the giveback with the filer.
  const pair = await startPair(t, 'takeover-drc');
  const { create, original } = await onFiler(pair, 'a', async (client) => {
    const root = await client.mountRoot('/a');
    const call = guardedCreate(root, 'once');
    const reply = await client.rpc.exchange(call);
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, reply).status, nfsstat3.NFS3_OK);
    return { create: call, original: reply };
  });

  assertCompleted(await pair.takeover('a'), 'takeover a');
  // The reply reached b through the reply mirror: the hand-off names b's store, not the cache.
  const folder = path.join(pair.config.mailbox, 'a');
  const [handoffFile, ...others] = readdirSync(folder).filter((name) => /^handoff-\d+\.json$/.test(name));
  assert.equal(others.length, 0, 'one hand-off');
  const { state } = JSON.parse(readFileSync(path.join(folder, handoffFile!), 'utf8')) as { state: { duplicateRequests: unknown[]; mirroredStore?: string } };
  assert.equal(typeof state.mirroredStore, 'string', 'the hand-off names the mirror store');
  assert.deepEqual(state.duplicateRequests, [], 'and carries no cache');
  const fromB = await onFiler(pair, 'a', (client) => client.rpc.exchange(create));
  assert.equal(decodeNfsReply(NFSPROC3.CREATE, fromB).status, nfsstat3.NFS3_OK, 'not NFS3ERR_EXIST: b did not run it again');
  assert.deepEqual(fromB, original, 'b replays the reply a sent, byte for byte');

  // b's own non-idempotent call, so that b's mirror sends something before the giveback.
  const { create: createOnB, original: originalOnB } = await onFiler(pair, 'a', async (client) => {
    const root = await client.mountRoot('/a');
    const call = guardedCreate(root, 'on-b');
    const reply = await client.rpc.exchange(call);
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, reply).status, nfsstat3.NFS3_OK);
    return { create: call, original: reply };
  });

  assertCompleted(await pair.giveback('a'), 'giveback a');
  const fromA = await onFiler(pair, 'a', (client) => client.rpc.exchange(create));
  assert.deepEqual(fromA, original, 'after the giveback a replays it too, byte for byte');
  const fromAOfB = await onFiler(pair, 'a', (client) => client.rpc.exchange(createOnB));
  assert.deepEqual(fromAOfB, originalOnB, "and b's own reply, byte for byte");
});

test('takeover: the write verifier is the same before and after a takeover and a giveback', async (t) => {
  // Goal: RFC 1813 3.3.7: unstable data survives a planned move, so the verifier must not change.
  const pair = await startPair(t, 'takeover-verifier');
  const data = randomBytes(64 * 1024);
  const { file, verifier } = await onFiler(pair, 'a', async (client) => {
    const root = await client.mountRoot('/a');
    const created = await client.createFile(root, 'unstable.bin');
    const written = await client.write(created, 0n, data, UNSTABLE);
    assert.equal(written.status, nfsstat3.NFS3_OK);
    assert.equal(written.resok!.count, data.length);
    return { file: created, verifier: Buffer.from(written.resok!.verf) };
  });
  const committedAndRead = (client: NfsClient) => async () => {
    const committed = await client.commit(file);
    assert.equal(committed.status, nfsstat3.NFS3_OK);
    const read = await client.read(file, 0n, data.length);
    assert.equal(read.status, nfsstat3.NFS3_OK);
    return { verifier: Buffer.from(committed.resok!.verf), data: Buffer.from(read.resok!.data) };
  };

  assertCompleted(await pair.takeover('a'), 'takeover a');
  const onB = await onFiler(pair, 'a', (client) => committedAndRead(client)());
  assert.deepEqual(onB.verifier, verifier, 'COMMIT on b returns the verifier of the WRITE on a');
  assert.ok(onB.data.equals(data), 'the data written on a reads back from b');

  assertCompleted(await pair.giveback('a'), 'giveback a');
  const onA = await onFiler(pair, 'a', (client) => committedAndRead(client)());
  assert.deepEqual(onA.verifier, verifier, 'COMMIT on a after the giveback returns the same verifier');
  assert.ok(onA.data.equals(data), 'the data reads back after the giveback');
});

test('takeover: refusals name the reason and change nothing', async (t) => {
  // Goal: step 1 refuses what it cannot do, says why, and leaves every filer where it was.
  const pair = await startPair(t, 'takeover-refusals');
  const atStart = placement(await pair.status());

  const unknown = assertRefused(await pair.takeover('no-such-filer'), 'takeover of an unknown filer');
  assert.match(unknown, /no-such-filer/);
  assert.deepEqual(placement(await pair.status()), atStart, 'an unknown filer changes nothing');

  const atHome = assertRefused(await pair.giveback('b'), 'giveback b while b is at home');
  assert.match(atHome, /giveback b/);
  assert.deepEqual(placement(await pair.status()), atStart, 'a refused giveback changes nothing');

  assertCompleted(await pair.takeover('a'), 'takeover a');
  const takenOver = placement(await pair.status());
  assert.deepEqual(takenOver.a, { servedBy: 'b', state: 'taken-over', epoch: '2' });
  const reasons: string[] = [];
  for (const node of ['a', 'b']) {
    reasons.push(`asked of ${node}: ${assertRefused(await pair.takeover('a', node), `takeover a a second time, asked of ${node}`)}`);
    assert.deepEqual(placement(await pair.status()), takenOver, 'a second takeover changes nothing');
  }
  t.diagnostic(`second takeover refused: ${reasons.join(' | ')}`);
  for (const reason of reasons) assert.match(reason, /already taken over/, 'the reason says the filer is taken over already');
});

test('takeover: a home node restarted while its filer is taken over does not serve it until giveback', async (t) => {
  // Goal: a restarted home node finds the higher claim in the mailbox and waits for the giveback.
  const pair = await startPair(t, 'takeover-restart');
  const file = await onFiler(pair, 'a', async (client) => client.createFile(await client.mountRoot('/a'), 'kept'));
  assertCompleted(await pair.takeover('a'), 'takeover a');

  assert.equal(await pair.stopNode('a'), 0, `node a exits 0 on SIGTERM\n${pair.logs}`);
  pair.startNode('a');
  await pair.waitForStatus('a', 'restarted node a: partner up and filer a inspected', (status) =>
    status.nodes.every((node) => node.up) && filerIn(status, 'a').phase !== 'starting');
  await pair.waitForStatus('b', 'node b: partner a up again', (status) => status.nodes.every((node) => node.up));

  const seenByA = filerIn(await pair.status('a'), 'a');
  assert.equal(seenByA.servedBy, 'b', 'the mailbox still says b serves a');
  assert.equal(seenByA.state, 'taken-over');
  assert.equal(seenByA.epoch, '2');
  assert.equal(seenByA.phase, 'idle', 'the restarted home node does not serve a');
  const attributes = await onFiler(pair, 'a', (client) => client.getattr(file));
  assert.equal(attributes.status, nfsstat3.NFS3_OK, "filer a's address still answers, served by b");

  assertCompleted(await pair.giveback('a'), 'giveback a');
  const back = filerIn(await pair.status('a'), 'a');
  assert.deepEqual({ servedBy: back.servedBy, state: back.state, epoch: back.epoch, phase: back.phase }, { servedBy: 'a', state: 'normal', epoch: '3', phase: 'serving' });
  const afterGiveback = await onFiler(pair, 'a', (client) => client.getattr(file));
  assert.equal(afterGiveback.status, nfsstat3.NFS3_OK, 'a serves its filer again, with the same handles');
});
