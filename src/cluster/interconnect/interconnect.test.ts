// Tests of the Interconnect over real sockets on 127.0.0.1 (port 0): sessions, requests,
// heartbeats and peer-down, reconnection, and the refusal of every peer or frame that is not the
// authenticated partner's next one. Frames are recorded, altered and replayed by a proxy between
// the partners. Every wait has a deadline; nothing sleeps a guess.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { FRAME_BYTES_MAX, frameHeader } from './framing.js';
import { HANDSHAKES_IN_PROGRESS_MAX, Interconnect, InterconnectError, type InterconnectErrorCode } from './interconnect.js';
import {
  DEADLINE_MS, EventRecorder, LogCapture, SECRET, nodeOptions, startPair, withDeadline,
} from './interconnect-fixture.js';

async function rejectsWith(promise: Promise<unknown>, code: InterconnectErrorCode, message?: RegExp): Promise<void> {
  await assert.rejects(withDeadline(promise, `a rejection with ${code}`), (error: unknown) => {
    assert.ok(error instanceof InterconnectError, `an InterconnectError, not ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

function deferred<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** How late a real timer may fire on a saturated 2-core machine before a test calls it a failure. */
const LIVENESS_SLACK_MS = 3000;

test('two partners establish a session and answer each other\'s requests', async (t) => {
  // Goal: a (name sorts first) dials, b listens; requests both ways get their own responses.
  const pair = await startPair();
  t.after(() => pair.stop());
  const [upA, upB] = await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  assert.deepEqual([upA.role, upA.partner, upB.role, upB.partner], ['dialer', 'b', 'listener', 'a']);
  assert.ok(pair.a.isUp && pair.b.isUp);
  pair.b.onRequest(async (type, body) => ({ type, body }));
  pair.a.onRequest(async (type) => `a answers ${type}`);
  assert.deepEqual(await pair.a.request('takeover-request', { filer: 'a', epoch: 3 }, DEADLINE_MS),
    { type: 'takeover-request', body: { filer: 'a', epoch: 3 } });
  assert.equal(await pair.b.request('released', null, DEADLINE_MS), 'a answers released');
  const many = await Promise.all(Array.from({ length: 50 }, (_, i) => pair.a.request('echo', i, DEADLINE_MS)));
  assert.deepEqual(many, Array.from({ length: 50 }, (_, i) => ({ type: 'echo', body: i })));
  const big = 'x'.repeat(FRAME_BYTES_MAX / 2);
  assert.deepEqual(await pair.a.request('handoff', big, DEADLINE_MS), { type: 'handoff', body: big });
});

test('heartbeats keep a quiet session up across several peer timeouts', async (t) => {
  // Goal: with no requests at all, 20 heartbeats each way (4 peer timeouts) pass without a peer-down.
  const pair = await startPair({ heartbeatIntervalMs: 20, peerTimeoutMs: 100 });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  for (let i = 0; i < 20; i++) await Promise.all([pair.eventsA.next('heartbeat'), pair.eventsB.next('heartbeat')]);
  assert.equal(pair.eventsA.count('peer-down') + pair.eventsB.count('peer-down'), 0);
  assert.ok(pair.a.isUp && pair.b.isUp);
  const heard = await pair.eventsA.next('heartbeat');
  assert.equal(pair.a.lastHeardMs, heard.receivedAtMs);
  assert.ok(pair.a.heardAgoMs! >= 0 && pair.a.heardAgoMs! < LIVENESS_SLACK_MS);
});

test('stopping one partner makes the other report peer-down within peerTimeoutMs', async (t) => {
  // Goal: a partner that stops is reported down at once (its socket closes), well within the timeout.
  const peerTimeoutMs = 300;
  const pair = await startPair({ peerTimeoutMs });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const startedMs = Date.now();
  await pair.b.stop();
  const down = await pair.eventsA.next('peer-down', peerTimeoutMs + LIVENESS_SLACK_MS);
  // Reported because the socket closed, not because the silence watchdog ran out.
  assert.doesNotMatch(down.reason, /nothing heard/);
  assert.ok(Date.now() - startedMs <= peerTimeoutMs + LIVENESS_SLACK_MS);
  assert.equal(pair.a.isUp, false);
  assert.equal(down.partner, 'b');
  assert.equal((await pair.eventsB.next('peer-down')).reason, 'stopped');
});

test('a partner that falls silent without closing is reported down after peerTimeoutMs', async (t) => {
  // Goal: a cut that leaves both sockets open (the proxy swallows every byte) is found by the watchdog on both sides.
  const heartbeatIntervalMs = 50;
  const peerTimeoutMs = 300;
  const pair = await startPair({ heartbeatIntervalMs, peerTimeoutMs, proxy: true });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  pair.proxy!.swallow = true;
  const cutMs = Date.now();
  const [downA, downB] = await Promise.all([pair.eventsA.next('peer-down'), pair.eventsB.next('peer-down')]);
  const elapsedMs = Date.now() - cutMs;
  assert.match(downA.reason, /nothing heard for \d+ ms \(peer timeout 300 ms\)/);
  assert.match(downB.reason, /nothing heard/);
  // Never early: heard at most one heartbeat interval (plus scheduling slack) before the cut.
  assert.ok(elapsedMs >= peerTimeoutMs - heartbeatIntervalMs - 20, `down after ${elapsedMs} ms`);
  // Late only by what a busy machine adds: the exact instant is tested with a manual clock below;
  // real timers on two shared cores may run late, so this bound only proves the watchdog fires.
  assert.ok(elapsedMs <= peerTimeoutMs + LIVENESS_SLACK_MS, `down after ${elapsedMs} ms`);
});

test('the dialer reconnects by itself after the listener restarts', async (t) => {
  // Goal: after the listener goes away and comes back on its port, the session returns without help.
  const pair = await startPair();
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const listen = pair.b.listenAddress!;
  await pair.b.stop();
  await pair.eventsA.next('peer-down');
  const log = new LogCapture();
  const b2 = new Interconnect(nodeOptions('b', 'a', log.log, { listen }));
  const events = new EventRecorder(b2);
  b2.onRequest(async () => 'the new b');
  await b2.start();
  t.after(() => b2.stop());
  await Promise.all([pair.eventsA.next('peer-up'), events.next('peer-up')]);
  assert.equal(await pair.a.request('who', null, DEADLINE_MS), 'the new b');
});

test('a new authenticated session from the partner replaces the old one', async (t) => {
  // Goal: the listener keeps one session: a second dialer that proves the secret takes its place.
  const pair = await startPair();
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const a2 = new Interconnect(nodeOptions('a', 'b', new LogCapture().log, { dial: pair.b.listenAddress! }));
  const events = new EventRecorder(a2);
  await a2.start();
  t.after(() => a2.stop());
  await events.next('peer-up');
  const down = await pair.eventsB.next('peer-down');
  assert.equal(down.reason, 'replaced by a new session from the partner');
  await pair.eventsB.next('peer-up');
  await pair.eventsA.next('peer-down');
});

test('a partner holding a different secret is refused with a warning, and neither side comes up', async (t) => {
  // Goal: both sides detect the wrong proof, log why and from where, and never log either secret.
  const otherSecret = Buffer.from('a different secret of 32 bytes!!', 'utf8');
  const pair = await startPair({ dialer: { secret: otherSecret } });
  t.after(() => pair.stop());
  const warningB = await pair.logB.waitForWarning('proof does not match');
  await pair.logA.waitForWarning('proof does not match');
  assert.match(String(warningB['remote']), /^127\.0\.0\.1:\d+$/);
  assert.equal(warningB.msg, 'interconnect peer refused');
  assert.equal(pair.eventsA.count('peer-up') + pair.eventsB.count('peer-up'), 0);
  assert.ok(!pair.a.isUp && !pair.b.isUp);
  const logged = [...pair.logA.text, ...pair.logB.text].join('\n');
  for (const secret of [SECRET, otherSecret]) {
    assert.ok(!logged.includes(secret.toString('utf8')) && !logged.includes(secret.toString('hex')), 'a secret was logged');
  }
});

test('a partner of another cluster is refused, and told why', async (t) => {
  // Goal: the cluster name must match; the refused dialer learns the listener's reason.
  const pair = await startPair({ dialer: { cluster: 'other-cluster' } });
  t.after(() => pair.stop());
  await pair.logB.waitForWarning('cluster "other-cluster" is not ours ("tandem-test")');
  await pair.logA.waitForWarning('cluster "tandem-test" is not ours ("other-cluster")');
  assert.equal(pair.eventsA.count('peer-up') + pair.eventsB.count('peer-up'), 0);
});

test('a node that is not the configured partner is refused, and told why', async (t) => {
  // Goal: b accepts only "a"; node "a0" holding the right secret is refused by name and hears the reason.
  const pair = await startPair({ dialer: { node: 'a0' } });
  t.after(() => pair.stop());
  await pair.logB.waitForWarning('node "a0" is not our partner ("a")');
  const told = await pair.logA.waitFor((line) => line.msg === 'interconnect partner refused us', 'the refusal heard by a0');
  assert.match(String(told['reason']), /node "a0" is not our partner/);
  assert.equal(pair.eventsA.count('peer-up') + pair.eventsB.count('peer-up'), 0);
});

test('a frame with one flipped byte closes the session, and the dialer comes back', async (t) => {
  // Goal: an altered frame fails its tag; the connection closes with the reason; a new session follows.
  const pair = await startPair({ proxy: true });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  pair.b.onRequest(async () => 'ok');
  const connection = pair.proxy!.connections[0]!;
  let flipped = false;
  connection.alter = (direction, frame) => {
    if (direction !== 'up' || flipped) return frame;
    flipped = true;
    const altered = Buffer.from(frame);
    altered[altered.length - 1]! ^= 0x01;
    return altered;
  };
  await rejectsWith(pair.a.request('x', 'y', DEADLINE_MS), 'down');
  await pair.logB.waitForWarning('bad tag');
  assert.match((await pair.eventsB.next('peer-down')).reason, /^protocol violation: bad tag/);
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  assert.equal(await pair.a.request('x', 'y', DEADLINE_MS), 'ok');
});

test('a replayed frame is refused in its own session and in the next', async (t) => {
  // Goal: a recorded frame injected again fails the seq check in its session and the tag in a new one.
  const pair = await startPair({ proxy: true });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  pair.b.onRequest(async (_type, body) => body);
  for (let i = 0; i < 3; i++) assert.equal(await pair.a.request('echo', i, DEADLINE_MS), i);
  const first = pair.proxy!.connections[0]!;
  const recorded = first.frames.up.at(-1)!; // a sealed frame (a request or a heartbeat) of this session
  first.inject('up', recorded);
  await pair.logB.waitForWarning('replayed frame');
  await pair.eventsB.next('peer-down');
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const current = pair.proxy!.connections.at(-1)!;
  assert.notEqual(current, first);
  current.inject('up', recorded);
  await pair.logB.waitForWarning('bad tag: frame altered, or recorded in another session');
  await pair.eventsB.next('peer-down');
});

test('a 2 GiB length prefix closes the connection, before the handshake and within a session', async (t) => {
  // Goal: a huge length ends the connection with a warning at once, whether or not the peer authenticated.
  const pair = await startPair({ proxy: true });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const twoGiB = frameHeader(2 * 1024 * 1024 * 1024);

  const stranger = net.connect(pair.b.listenAddress!);
  stranger.on('error', () => {});
  stranger.resume(); // read (and drop) its hello, so the close is seen
  const strangerClosed = new Promise<void>((resolve) => stranger.once('close', () => resolve()));
  stranger.write(twoGiB);
  await withDeadline(strangerClosed, 'the stranger\'s connection to close');
  await pair.logB.waitForWarning('frame of 2147483648 bytes exceeds the limit of 4096');
  assert.ok(pair.b.isUp, 'the session with the partner is untouched');

  pair.proxy!.connections[0]!.inject('up', twoGiB);
  await pair.logB.waitForWarning(`frame of 2147483648 bytes exceeds the limit of ${FRAME_BYTES_MAX}`);
  await pair.eventsB.next('peer-down');
});

test('a request to a partner that is down rejects with down', async (t) => {
  // Goal: without a session a request fails at once; requests pending when the session ends fail too.
  const lonely = new Interconnect(nodeOptions('a', 'b', new LogCapture().log, { dial: { host: '127.0.0.1', port: 1 } }));
  await lonely.start();
  t.after(() => lonely.stop());
  await rejectsWith(lonely.request('takeover-request', {}, DEADLINE_MS), 'down', /no session with b/);

  const pair = await startPair();
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const started = deferred();
  pair.b.onRequest(async () => {
    started.resolve();
    return new Promise<never>(() => {});
  });
  const pending = pair.a.request('slow', null, DEADLINE_MS);
  await withDeadline(started.promise, 'the handler to start');
  await pair.b.stop();
  await rejectsWith(pending, 'down', /session with b ended/);
});

test('a slow handler makes the request reject with timeout, and its late response is dropped', async (t) => {
  // Goal: the deadline is the caller's; a response after it is ignored and the session stays up.
  const pair = await startPair();
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  const release = deferred<string>();
  pair.b.onRequest(async (type) => (type === 'slow' ? release.promise : 'fast'));
  await rejectsWith(pair.a.request('slow', null, 50), 'timeout', /no response from b within 50 ms/);
  release.resolve('too late');
  await pair.logA.waitFor((line) => line.msg === 'interconnect response after its request timed out', 'the late response');
  assert.equal(await pair.a.request('fast', null, DEADLINE_MS), 'fast');
  assert.ok(pair.a.isUp && pair.b.isUp);
});

test('a handler error, or no handler, reaches the caller as refused with the reason', async (t) => {
  // Goal: failures of the partner's handler are answers, not lost requests.
  const pair = await startPair();
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  await rejectsWith(pair.a.request('takeover-request', null, DEADLINE_MS), 'refused', /no handler on b/);
  pair.b.onRequest(async () => {
    throw new Error('filer a is not served here');
  });
  await rejectsWith(pair.a.request('takeover-request', null, DEADLINE_MS), 'refused', /b answered: filer a is not served here/);
  await rejectsWith(pair.a.request('huge', 'x'.repeat(FRAME_BYTES_MAX), DEADLINE_MS), 'too-large');
  assert.ok(pair.a.isUp);
});

test('the listener holds at most HANDSHAKES_IN_PROGRESS_MAX unauthenticated connections', async (t) => {
  // Goal: strangers that connect and stay silent cannot make the listener hold unbounded sockets.
  const log = new LogCapture();
  const b = new Interconnect(nodeOptions('b', 'a', log.log));
  await b.start();
  t.after(() => b.stop());
  const sockets = Array.from({ length: HANDSHAKES_IN_PROGRESS_MAX + 1 }, () => {
    const socket = net.connect(b.listenAddress!);
    socket.on('error', () => {});
    socket.resume();
    return { socket, closed: new Promise<void>((resolve) => socket.once('close', () => resolve())) };
  });
  t.after(() => sockets.forEach(({ socket }) => socket.destroy()));
  await log.waitFor((line) => line.msg === 'interconnect connection refused: too many handshakes in progress', 'the refusal');
  await withDeadline(Promise.race(sockets.map(({ closed }) => closed)), 'one connection to close');
  assert.equal(log.lines.filter((line) => line.msg === 'interconnect connection refused: too many handshakes in progress').length, 1);
});
