// Tests of lease.ts: the lease record on disk, the holder's validity (LeaseKeeper), the partner's
// judgement (LeaseObserver), and a replay of fencing.md "The timing argument" on two drifting
// clocks driven from one simulated real time. Time moves only when a test moves it; writes and
// reads are scripted (held open, failed or completed at chosen instants), except in the tests on
// a real temporary folder. The simulated clocks, the scripted store and the timelines are in
// lease-fixture.ts.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { silentLogger } from '../platform/logger.js';
import {
  LEASE_BYTES_MAX,
  LEASE_DRIFT_RATIO_DEFAULT,
  LEASE_MARGIN_MS_DEFAULT,
  LEASE_MS_DEFAULT,
  LEASE_RENEW_MS_DEFAULT,
  LeaseKeeper,
  LeaseObserver,
  leasePath,
  readLease,
  writeLease,
  writeLeaseSync,
} from './lease.js';
import {
  FILER,
  flush,
  keeperFixture,
  observerFixture,
  poll,
  record,
  RHO,
  runTimeline,
  SimulatedTime,
  startedKeeper,
  timelines,
  withFolder,
} from './lease-fixture.js';
import { MailboxError } from './mailbox.js';

const THRESHOLD_MS = LEASE_MS_DEFAULT * (1 + LEASE_DRIFT_RATIO_DEFAULT) + LEASE_MARGIN_MS_DEFAULT; // 1260

// --- the record on disk ------------------------------------------------------------------------

test('lease record: is replaced atomically and read back, with epoch and sequence as decimal strings', async () => {
  // Goal: what the keeper writes is what the observer reads, bigints survive JSON, no temporary file stays.
  await withFolder(async (folder) => {
    const big = record(2n ** 64n - 1n, { epoch: 2n ** 60n + 1n });
    await writeLease(folder, record(1n));
    await writeLease(folder, big);
    assert.deepEqual(await readLease(folder, FILER), big);
    const raw = JSON.parse(await readFile(leasePath(folder), 'utf8')) as Record<string, unknown>;
    assert.equal(raw['epoch'], '1152921504606846977');
    assert.equal(raw['sequence'], '18446744073709551615');
    assert.equal('released' in raw, false);
    await writeLease(folder, record(3n, { released: true }));
    assert.deepEqual(await readLease(folder, FILER), record(3n, { released: true }));
    assert.deepEqual(await readdir(folder), ['lease.json']);
  });
});

test('lease record: writeLeaseSync writes the same bytes as writeLease, and a failed write is an io error naming the path', async () => {
  // Goal: the worker thread's synchronous write is the same record, and fails the same way.
  await withFolder(async (folder) => {
    const path = leasePath(folder);
    await writeLease(folder, record(5n, { released: true }));
    const asynchronous = await readFile(path);
    writeLeaseSync(folder, record(5n, { released: true }));
    assert.deepEqual(await readFile(path), asynchronous);
    assert.deepEqual(await readdir(folder), ['lease.json']);
    const gone = join(folder, 'missing', FILER);
    assert.throws(() => writeLeaseSync(gone, record(6n)), (error: unknown) => {
      assert.ok(error instanceof MailboxError, String(error));
      assert.equal(error.code, 'io');
      assert.equal(error.path, leasePath(gone));
      return true;
    });
  });
});

test('lease record: a missing record reads as undefined and a corrupt one is an error naming its path', async () => {
  // Goal: absence is not an error, and every malformed record is refused as 'corrupt' with the file named.
  await withFolder(async (folder) => {
    assert.equal(await readLease(folder, FILER), undefined);
    const path = leasePath(folder);
    const valid = { filer: FILER, owner: 'a', epoch: '7', sequence: '1', leaseMs: 1000 };
    const corrupt = [
      'not json',
      '[1, 2]',
      JSON.stringify({ ...valid, filer: 'fs2' }),
      JSON.stringify({ ...valid, owner: '' }),
      JSON.stringify({ ...valid, epoch: 7 }),
      JSON.stringify({ ...valid, epoch: '07' }),
      JSON.stringify({ ...valid, sequence: '0' }),
      JSON.stringify({ ...valid, sequence: '18446744073709551616' }),
      JSON.stringify({ ...valid, leaseMs: 0 }),
      JSON.stringify({ ...valid, leaseMs: 1.5 }),
      JSON.stringify({ ...valid, released: false }),
      JSON.stringify({ ...valid, owner: 'x'.repeat(LEASE_BYTES_MAX) }),
    ];
    for (const contents of corrupt) {
      await writeFile(path, contents);
      await assert.rejects(readLease(folder, FILER), (error: unknown) => {
        assert.ok(error instanceof MailboxError, `${contents.slice(0, 40)}: ${String(error)}`);
        assert.equal(error.code, 'corrupt');
        assert.equal(error.path, path);
        assert.ok(error.message.includes(path), error.message);
        return true;
      });
    }
  });
});

test('lease keeper and observer: on a real folder the partner sees sequence 1, a renewal, then the release', async () => {
  // Goal: the default write (writeLease) and readLease work together through a real file system.
  await withFolder(async (folder) => {
    const time = new SimulatedTime();
    const clock = time.clock();
    const keeper = new LeaseKeeper({ folder, filer: FILER, owner: 'a', epoch: 7n, clock, log: silentLogger() });
    const observer = new LeaseObserver({ read: () => readLease(folder, FILER), clock: time.clock(1, 50) });
    const t0 = clock.nowMs();
    assert.equal(await keeper.start(), true);
    assert.equal(keeper.validUntilMs, t0 + LEASE_MS_DEFAULT);
    const first = await observer.poll();
    assert.equal(first.state, 'fresh');
    assert.deepEqual(first.state === 'fresh' && first.record, record(1n));
    await time.advance(LEASE_RENEW_MS_DEFAULT);
    for (let waited = 0; keeper.validUntilMs !== t0 + LEASE_RENEW_MS_DEFAULT + LEASE_MS_DEFAULT; waited++) {
      assert.ok(waited < 5000, 'the renewal completes within 5 s');
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    assert.equal((await readLease(folder, FILER))?.sequence, 2n);
    await keeper.release();
    assert.equal(keeper.isValid(), false);
    const released = await observer.poll();
    assert.equal(released.state, 'released');
    assert.deepEqual(released.state === 'released' && released.record, record(3n, { released: true }));
    assert.deepEqual(await readdir(folder), ['lease.json']);
  });
});

// --- the holder ----------------------------------------------------------------------------------

test('lease keeper: validity counts from the start of the last completed renewal, not its end', async () => {
  // Goal: validUntil = start of the write + leaseMs, however long the write took.
  const { time, store, keeper, t0 } = keeperFixture();
  const started = keeper.start();
  assert.equal(keeper.validUntilMs, undefined);
  assert.equal(keeper.isValid(), false);
  await time.advance(50);
  store.last.complete();
  assert.equal(await started, true);
  assert.equal(keeper.validUntilMs, t0 + 1000);
  await time.advanceTo(LEASE_RENEW_MS_DEFAULT);
  assert.deepEqual(store.sequences, [1n, 2n]);
  assert.equal(store.last.beganMs, t0 + 333);
  await time.advance(200);
  store.last.complete();
  await flush();
  assert.equal(keeper.validUntilMs, t0 + 1333);
  assert.equal(keeper.isValid(t0 + 1332), true);
  assert.equal(keeper.isValid(t0 + 1333), false);
});

test('lease keeper: a hung renewal makes the lease expire exactly at validUntil, and onExpired fires once', async () => {
  // Goal: the holder stops at validUntil without noticing anything, not a millisecond early or late.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  await time.advanceTo(333);
  assert.equal(store.writes.length, 2); // renewal 2 began, and hangs
  await time.advanceTo(999);
  assert.equal(keeper.isValid(), true);
  assert.deepEqual(expiries, []);
  await time.advanceTo(1000);
  assert.equal(keeper.isValid(), false);
  assert.equal(keeper.isValid(t0 + 999), true);
  assert.deepEqual(expiries, [{ validUntilMs: t0 + 1000, nowMs: t0 + 1000, sequence: 1n }]);
  await time.advance(5000);
  assert.equal(expiries.length, 1);
  assert.equal(store.writes.length, 2, 'no renewal is started beside the hung one, nor after the lapse');
});

test('lease keeper: a failed renewal does not extend the lease', async () => {
  // Goal: only completed writes count; failures keep the schedule, each with a new sequence.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  for (const dueMs of [333, 666, 999]) {
    await time.advanceTo(dueMs);
    assert.equal(store.last.beganMs, t0 + dueMs);
    store.last.fail();
    await flush();
    assert.equal(keeper.validUntilMs, t0 + 1000);
  }
  assert.deepEqual(store.sequences, [1n, 2n, 3n, 4n]);
  await time.advanceTo(1000);
  assert.equal(keeper.isValid(), false);
  assert.equal(expiries.length, 1);
});

test('lease keeper: renewals resume after a failure, and a write that succeeds in time carries validity on', async () => {
  // Goal: a transient mailbox error costs nothing if a later renewal completes before validUntil.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  await time.advanceTo(333);
  store.last.fail();
  await time.advanceTo(666);
  await time.advance(34);
  store.last.complete(); // sequence 3, began at 666, completed at 700
  await flush();
  assert.equal(keeper.validUntilMs, t0 + 1666);
  await time.advanceTo(999);
  store.last.complete();
  await time.advanceTo(1500);
  assert.equal(keeper.isValid(), true);
  assert.deepEqual(store.sequences, [1n, 2n, 3n, 4n, 5n]);
  assert.deepEqual(expiries, []);
});

test('lease keeper: a renewal completing after the lapse does not bring validity back, and renewing stops', async () => {
  // Goal: a lapse is final; the partner may have read the old sequence just before this write landed.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  await time.advanceTo(333);
  await time.advanceTo(1100);
  store.last.complete(); // began at 333: counted, it would claim validity until 1333
  await flush();
  assert.equal(keeper.validUntilMs, t0 + 1000);
  assert.equal(keeper.isValid(), false);
  await time.advance(5000);
  assert.equal(store.writes.length, 2, 'a lapsed keeper writes nothing more, so the partner can claim');
  assert.equal(expiries.length, 1);
});

test('lease keeper: a renewal due after a stall past validUntil is not written, and the lease lapses', async () => {
  // Goal: a stale holder writes nothing once its lease lapsed, even when the renewal timer runs
  // before the expiry timer (the partner may already be writing lease.json for the next epoch).
  let stalledMs = 0; // how far the clock ran while the process was stopped, its timers not yet run
  const renewed: number[] = [];
  const { time, store, keeper, expiries, t0 } = keeperFixture(
    { onRenewed: (validUntilMs) => renewed.push(validUntilMs) },
    (simulated) => ({ nowMs: () => simulated.nowMs() + stalledMs, after: (delayMs, run) => simulated.after(delayMs, run) }),
  );
  const started = keeper.start();
  store.last.complete();
  assert.equal(await started, true);
  await time.advanceTo(333);
  store.last.complete(); // valid until 1333; the next renewal is due at 666, the expiry at 1333
  await flush();
  assert.deepEqual(renewed, [t0 + 1000, t0 + 1333], 'onRenewed reports each counted renewal');
  stalledMs = 700; // stopped just before 666, resumed at 1366: the renewal timer runs first
  await time.advanceTo(666);
  assert.deepEqual(store.sequences, [1n, 2n], 'no write begins after validUntil');
  assert.equal(keeper.isValid(), false);
  assert.deepEqual(expiries, [{ validUntilMs: t0 + 1333, nowMs: t0 + 1366, sequence: 2n }]);
  await time.advance(5000);
  assert.deepEqual(store.sequences, [1n, 2n]);
  assert.equal(expiries.length, 1);
  assert.deepEqual(renewed, [t0 + 1000, t0 + 1333]);
});

test('lease keeper: never has two renewals in flight, and starts an overdue one as soon as the previous completes', async () => {
  // Goal: a slow write delays the next renewal instead of piling writes up; the schedule then resumes.
  const { time, store, keeper, t0 } = await startedKeeper();
  await time.advanceTo(333);
  await time.advanceTo(900);
  assert.equal(store.writes.length, 2);
  store.last.complete();
  await flush();
  assert.equal(keeper.validUntilMs, t0 + 1333);
  assert.equal(store.writes.length, 3);
  assert.equal(store.last.beganMs, t0 + 900);
  store.last.complete();
  await time.advanceTo(1232);
  assert.equal(store.writes.length, 3);
  await time.advanceTo(1233);
  assert.equal(store.writes.length, 4);
  assert.equal(store.inFlightMax, 1);
});

test('lease keeper: a first write that does not complete within the lease leaves the lease never valid', async () => {
  // Goal: start() reports failure, nothing is ever valid, and a straggling completion changes nothing.
  const { time, store, keeper, expiries } = keeperFixture();
  const started = keeper.start();
  await time.advanceTo(1000);
  assert.equal(await started, false);
  store.last.complete();
  await time.advance(1000);
  assert.equal(keeper.validUntilMs, undefined);
  assert.equal(keeper.isValid(), false);
  assert.deepEqual(expiries, []);
  assert.equal(store.writes.length, 1);
});

test('lease keeper: a failed first write is retried, and start() resolves once one completes in time', async () => {
  // Goal: acquiring the lease survives one mailbox error.
  const { time, store, keeper, t0 } = keeperFixture();
  const started = keeper.start();
  store.last.fail();
  await time.advanceTo(333);
  store.last.complete();
  assert.equal(await started, true);
  assert.equal(keeper.validUntilMs, t0 + 1333);
});

test('lease keeper: release ends validity at once and writes a released record after the renewal in flight', async () => {
  // Goal: a planned release lets the partner claim at once, and the released record is the last write.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  await time.advanceTo(400); // renewal 2 began at 333 and is still running
  const released = keeper.release();
  assert.equal(keeper.isValid(), false);
  assert.equal(keeper.validUntilMs, t0 + 400);
  await flush();
  assert.equal(store.writes.length, 2);
  store.writes[1]!.complete();
  await flush();
  assert.deepEqual(store.last.record, record(3n, { released: true }));
  assert.equal(keeper.validUntilMs, t0 + 400, 'the renewal completing after release does not count');
  store.last.complete();
  await released;
  await time.advance(5000);
  assert.equal(store.writes.length, 3);
  assert.deepEqual(expiries, []);
  assert.equal(store.inFlightMax, 1);
});

test('lease keeper: stop cancels the timers and leaves the validity already earned', async () => {
  // Goal: a stopped keeper renews no more and reports no expiry.
  const { time, store, keeper, expiries, t0 } = await startedKeeper();
  keeper.stop();
  await time.advance(5000);
  assert.equal(store.writes.length, 1);
  assert.equal(keeper.validUntilMs, t0 + 1000);
  assert.deepEqual(expiries, []);
});

// --- the partner ---------------------------------------------------------------------------------

test('lease observer: reports fresh while the sequence changes', async () => {
  // Goal: a holder renewing every renewMs is never judged expired, however long it runs.
  const fixture = observerFixture(record(1n));
  for (let sequence = 1n; sequence <= 20n; sequence++) {
    fixture.current = record(sequence);
    const seen = await poll(fixture);
    assert.equal(seen.state, 'fresh');
    assert.equal(seen.unchangedForMs, 0);
    await fixture.time.advance(LEASE_RENEW_MS_DEFAULT);
  }
});

test('lease observer: reports expired only after leaseMs × (1 + ρ) + margin without change since it first saw the sequence', async () => {
  // Goal: the threshold is exact (1260 ms by default), on the observer's own clock.
  const fixture = observerFixture(record(5n));
  assert.deepEqual(await poll(fixture), { state: 'fresh', record: record(5n), unchangedForMs: 0, expiresInMs: THRESHOLD_MS });
  await fixture.time.advance(THRESHOLD_MS - 1);
  assert.deepEqual(await poll(fixture), { state: 'fresh', record: record(5n), unchangedForMs: 1259, expiresInMs: 1 });
  await fixture.time.advance(1);
  assert.deepEqual(await poll(fixture), { state: 'expired', record: record(5n), unchangedForMs: 1260, expiresInMs: 0 });
  fixture.current = record(6n);
  assert.equal((await poll(fixture)).state, 'fresh');
  fixture.current = record(1n, { epoch: 8n, owner: 'b' });
  assert.equal((await poll(fixture)).state, 'fresh', 'a new owner or epoch restarts at sequence 1');
});

test('lease observer: a record first seen late is timed from its first sight, not earlier', async () => {
  // Goal: an observer that starts (or reads) late never expires a lease sooner for it.
  const fixture = observerFixture(record(9n)); // written long before the observer's first read
  await fixture.time.advance(5000);
  fixture.readMs = 300; // and that first read takes 300 ms: first sight is its end
  const first = await poll(fixture);
  assert.deepEqual([first.state, first.unchangedForMs], ['fresh', 0]);
  fixture.readMs = 10;
  await fixture.time.advanceTo(5000 + 300 + 1249); // reads from 1249 to 1259 ms after first sight
  const justBefore = await poll(fixture);
  assert.deepEqual([justBefore.state, justBefore.unchangedForMs], ['fresh', 1249], 'judged at the start of the read');
  await fixture.time.advanceTo(5000 + 300 + 1260);
  const expired = await poll(fixture);
  assert.deepEqual([expired.state, expired.unchangedForMs], ['expired', 1260]);
});

test('lease observer: a read error is reported as unreadable, never as expired', async () => {
  // Goal: an unreachable mailbox never makes the partner claim; the last record seen is still reported.
  const fixture = observerFixture(new Error('EIO'));
  const blind = await poll(fixture);
  assert.equal(blind.state, 'unreadable');
  assert.equal(blind.state === 'unreadable' && blind.record, undefined);
  fixture.current = record(4n);
  assert.equal((await poll(fixture)).state, 'fresh');
  fixture.current = new Error('EIO');
  for (let i = 0; i < 20; i++) {
    await fixture.time.advance(LEASE_RENEW_MS_DEFAULT);
    const seen = await poll(fixture);
    assert.equal(seen.state, 'unreadable');
    assert.ok(seen.state === 'unreadable' && seen.error instanceof Error && seen.record?.sequence === 4n);
  }
  fixture.current = record(4n);
  assert.equal((await poll(fixture)).state, 'expired', 'once readable, the same sequence is judged from its first sight');
});

test('lease observer: a released record reads as released at once, and a missing one as absent', async () => {
  // Goal: a planned release needs no waiting; no lease at all is never called expired.
  const fixture = observerFixture(record(3n, { released: true }));
  assert.equal((await poll(fixture)).state, 'released');
  fixture.current = undefined;
  assert.equal((await poll(fixture)).state, 'absent');
  await fixture.time.advance(10_000);
  const absent = await poll(fixture);
  assert.deepEqual([absent.state, absent.unchangedForMs], ['absent', 10_000]);
});

test('lease observer: a record stating a longer lease is waited out in full', async () => {
  // Goal: a holder configured with a longer lease than the partner is not claimed from too early.
  const fixture = observerFixture(record(1n, { leaseMs: 2000 }));
  await poll(fixture);
  await fixture.time.advance(2000 * 1.01 + 250 - 1);
  assert.equal((await poll(fixture)).state, 'fresh');
  await fixture.time.advance(1);
  assert.equal((await poll(fixture)).state, 'expired');
});

// --- the timing argument ---------------------------------------------------------------------------

test("timing argument: with the holder's clock 1% slow and the observer's 1% fast, expired comes after the holder's last valid instant plus stopGraceMs", async () => {
  // Goal: fencing.md's inequality holds on the real classes for stopGraceMs = marginMs - 2ρ·leaseMs,
  // over renewal phases, poll phases and periods, read and write delays, and every way the
  // holder's writes fail. A poll period of 315 ms (a quarter of the 1260 ms threshold) lets a
  // poll fall right at the threshold, where the argument is tightest.
  const stopGraceMs = LEASE_MARGIN_MS_DEFAULT - 2 * RHO * LEASE_MS_DEFAULT; // 230
  let slackMinMs = Number.POSITIVE_INFINITY;
  const lines = timelines();
  for (const line of lines) {
    const { validUntilRealMs, expiredRealMs } = await runTimeline(line);
    const slackMs = expiredRealMs - (validUntilRealMs + stopGraceMs);
    assert.ok(slackMs > 0, `${JSON.stringify(line)}: expired at ${expiredRealMs}, valid until ${validUntilRealMs}`);
    slackMinMs = Math.min(slackMinMs, slackMs);
  }
  // The sweep reaches the edge: the exact bound leaves 7.5 ms (1260/1.01 - 1010 - 230) when the
  // partner first sees a renewal the instant it began; the sweep must come within a few ms of it.
  assert.ok(slackMinMs < 10, `closest approach ${slackMinMs} ms over ${lines.length} timelines`);
});
