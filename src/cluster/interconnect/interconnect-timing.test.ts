// Timing of the Interconnect under a clock driven by hand (real sockets, no real timers): the
// peer watchdog fires exactly peerTimeoutMs after the last frame heard, a silent connection is
// refused exactly at HANDSHAKE_TIMEOUT_MS, and the dialer's backoff doubles to its bound and
// starts over after a session. Every wait for I/O has a deadline; time itself never passes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { HANDSHAKE_TIMEOUT_MS } from './link.js';
import { Interconnect, RECONNECT_DELAY_MAX_MS, RECONNECT_DELAY_MIN_MS } from './interconnect.js';
import {
  EventRecorder, LogCapture, ManualClock, WARN, nodeOptions, startPair, withDeadline,
} from './interconnect-fixture.js';

test('a silent partner is declared down exactly peerTimeoutMs after the last frame heard', async (t) => {
  // Goal: the watchdog counts from the last valid frame: each heartbeat heard pushes the deadline back.
  const clockA = new ManualClock();
  const clockB = new ManualClock();
  const heartbeatIntervalMs = 50;
  const peerTimeoutMs = 300;
  const pair = await startPair({ heartbeatIntervalMs, peerTimeoutMs, dialer: { clock: clockA }, listener: { clock: clockB } });
  t.after(() => pair.stop());
  await Promise.all([pair.eventsA.next('peer-up'), pair.eventsB.next('peer-up')]);
  assert.equal(pair.b.lastHeardMs, clockB.nowMs());

  clockB.advance(200);
  clockA.advance(heartbeatIntervalMs); // a sends one heartbeat, heard by b at b's time +200
  await pair.eventsB.next('heartbeat');
  assert.equal(pair.b.lastHeardMs, clockB.nowMs());
  clockB.advance(peerTimeoutMs - 1);
  assert.ok(pair.b.isUp, 'still up 1 ms before the timeout');
  clockB.advance(1);
  assert.equal(pair.b.isUp, false);
  assert.equal((await pair.eventsB.next('peer-down')).reason, `nothing heard for ${peerTimeoutMs} ms (peer timeout ${peerTimeoutMs} ms)`);
  await pair.logB.waitForWarning('nothing heard');
});

test('a connection that does not finish the handshake within HANDSHAKE_TIMEOUT_MS is closed', async (t) => {
  // Goal: a peer that connects and says nothing holds a slot for exactly the handshake timeout.
  const clock = new ManualClock();
  const log = new LogCapture();
  const b = new Interconnect(nodeOptions('b', 'a', log.log, { clock }));
  await b.start();
  t.after(() => b.stop());
  const silent = net.connect(b.listenAddress!);
  silent.on('error', () => {});
  silent.resume(); // read (and drop) its hello, so the close is seen
  const closed = new Promise<void>((resolve) => silent.once('close', () => resolve()));
  await clock.waitForTimers(() => clock.pendingDelaysMs.includes(HANDSHAKE_TIMEOUT_MS), 'the handshake timer');
  clock.advance(HANDSHAKE_TIMEOUT_MS - 1);
  assert.equal(log.lines.filter((line) => line.level === WARN).length, 0);
  clock.advance(1);
  await log.waitForWarning(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms`);
  await withDeadline(closed, 'the silent connection to close');
});

/** A port on 127.0.0.1 that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, () => resolve()));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  assert.ok(typeof address === 'object' && address !== null);
  return address.port;
}

test('the dialer backs off from RECONNECT_DELAY_MIN_MS doubling to RECONNECT_DELAY_MAX_MS, and starts over after a session', async (t) => {
  // Goal: a missing listener costs bounded, growing retries; a session resets the backoff.
  const clock = new ManualClock();
  const port = await freePort();
  const log = new LogCapture();
  const a = new Interconnect(nodeOptions('a', 'b', log.log, { clock, dial: { host: '127.0.0.1', port } }));
  const events = new EventRecorder(a);
  await a.start();
  t.after(() => a.stop());

  /** Each attempt sets the handshake timer, then (once refused) the reconnect timer. */
  const nextReconnect = async (attempt: number): Promise<number> => {
    await clock.waitForTimers(() => clock.scheduledDelaysMs.length >= 2 * attempt && clock.pendingDelaysMs.length === 1, `reconnect ${attempt}`);
    const delayMs = clock.scheduledDelaysMs[2 * attempt - 1]!;
    assert.deepEqual(clock.pendingDelaysMs, [delayMs]);
    return delayMs;
  };
  const delays: number[] = [];
  for (let attempt = 1; attempt <= 8; attempt++) {
    const delayMs = await nextReconnect(attempt);
    delays.push(delayMs);
    if (attempt < 8) clock.advance(delayMs);
  }
  const expected = [100, 200, 400, 800, 1600, 3200, 5000, 5000];
  assert.equal(expected[0], RECONNECT_DELAY_MIN_MS);
  assert.equal(expected.at(-1), RECONNECT_DELAY_MAX_MS);
  assert.deepEqual(delays, expected);

  const b = new Interconnect(nodeOptions('b', 'a', new LogCapture().log, { listen: { host: '127.0.0.1', port } }));
  await b.start();
  clock.advance(RECONNECT_DELAY_MAX_MS);
  await events.next('peer-up');
  const scheduledBefore = clock.scheduledDelaysMs.length;
  await b.stop();
  await events.next('peer-down');
  await clock.waitForTimers(() => clock.scheduledDelaysMs.slice(scheduledBefore).includes(RECONNECT_DELAY_MIN_MS), 'the reconnect after the session');
});
