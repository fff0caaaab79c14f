// Tests of mailbox.ts: exclusive epoch claims (also raced between processes), the fenced state
// record, hand-offs, pruning, and defensive reading of what is on disk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import {
  CLAIM_BYTES_MAX,
  EPOCH_CLAIMS_KEPT,
  Mailbox,
  MailboxError,
  STATE_BYTES_MAX,
  type ClaimOutcome,
  type FilerStateRecord,
} from './mailbox.js';

const START_MS = 1_700_000_000_000;

/** A clock that advances one millisecond per reading. */
function steppingClock(): () => number {
  let now = START_MS;
  return () => now++;
}

async function withMailboxDirectory(work: (directory: string) => Promise<void>): Promise<void> {
  const directory = await mkdtemp(join(tmpdir(), 'tandem-mailbox-'));
  try {
    await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

function isMailboxError(code: MailboxError['code'], path?: string): (error: unknown) => boolean {
  return (error) => {
    assert.ok(error instanceof MailboxError, `expected a MailboxError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (path !== undefined) {
      assert.equal(error.path, path);
      assert.ok(error.message.includes(path), `the message names ${path}: ${error.message}`);
    }
    return true;
  };
}

function record(epoch: bigint, owner: string | null, state: FilerStateRecord['state']): FilerStateRecord {
  return { filer: 'a', epoch, owner, state, updatedAtMs: START_MS };
}

/** Checks one race: exactly one winner, and the loser names it. */
function assertOneWinner(outcomes: readonly ClaimOutcome[], racers: readonly string[], epoch: bigint): string {
  const winners = outcomes.flatMap((outcome, index) => (outcome.won ? [racers[index]!] : []));
  assert.equal(winners.length, 1, `epoch ${epoch}: ${JSON.stringify(outcomes)}`);
  for (const outcome of outcomes) if (!outcome.won) assert.equal(outcome.holder, winners[0], `epoch ${epoch}: the loser learns the holder`);
  return winners[0]!;
}

test('mailbox: claims grow and the highest claim is the current epoch', async () => {
  // Goal: the current epoch is the highest claim present, with the owner that claimed it.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a', { now: steppingClock() });
    assert.equal(mailbox.folder, join(directory, 'a'));
    assert.equal(await mailbox.currentEpoch(), undefined);
    assert.deepEqual(await mailbox.claim(1n, 'node-a'), { won: true });
    assert.deepEqual(await mailbox.claim(2n, 'node-b', { operation: 'takeover-1' }), { won: true });
    assert.deepEqual(await mailbox.claim(7n, 'node-a'), { won: true });
    assert.deepEqual(await mailbox.currentEpoch(), { epoch: 7n, owner: 'node-a' });
    const claim: unknown = JSON.parse(await readFile(join(directory, 'a', 'epoch-2.json'), 'utf8'));
    assert.deepEqual(claim, { filer: 'a', epoch: '2', owner: 'node-b', claimedAtMs: START_MS + 1, operation: 'takeover-1' });
  });
});

test('mailbox: of two racers claiming one epoch exactly one wins, and the loser learns the holder', async () => {
  // Goal: 200 races through one Mailbox object, each decided by the exclusive create alone.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    for (let epoch = 1n; epoch <= 200n; epoch += 1n) {
      const outcomes = await Promise.all([mailbox.claim(epoch, 'node-a'), mailbox.claim(epoch, 'node-b')]);
      const winner = assertOneWinner(outcomes, ['node-a', 'node-b'], epoch);
      assert.deepEqual(await mailbox.currentEpoch(), { epoch, owner: winner });
    }
  });
});

test('mailbox: racers in two Mailbox objects on one folder also get exactly one winner', async () => {
  // Goal: 200 races between two independent openings of one filer's mailbox (as two nodes have).
  await withMailboxDirectory(async (directory) => {
    const first = await Mailbox.open(directory, 'a');
    const second = await Mailbox.open(directory, 'a');
    for (let epoch = 1n; epoch <= 200n; epoch += 1n) {
      // Alternate who starts first, so neither side always has the head start.
      const racers = epoch % 2n === 0n ? ['node-a', 'node-b'] : ['node-b', 'node-a'];
      const outcomes = await Promise.all([first.claim(epoch, racers[0]!), second.claim(epoch, racers[1]!)]);
      const winner = assertOneWinner(outcomes, racers, epoch);
      assert.deepEqual(await second.currentEpoch(), { epoch, owner: winner });
    }
    const claims = (await readdir(first.folder)).filter((name) => name.startsWith('epoch-'));
    assert.equal(claims.length, EPOCH_CLAIMS_KEPT, 'pruning keeps up with the races');
  });
});

/** A child process that opens the mailbox and, for each epoch read from stdin, claims it. */
const RACER_SCRIPT = `
import { createInterface } from 'node:readline';
const { Mailbox } = await import(process.env.MAILBOX_MODULE);
const mailbox = await Mailbox.open(process.env.MAILBOX_DIRECTORY, 'a');
process.stdout.write('ready\\n');
for await (const line of createInterface({ input: process.stdin })) {
  const outcome = await mailbox.claim(BigInt(line), process.env.MAILBOX_OWNER);
  process.stdout.write(JSON.stringify(outcome) + '\\n');
}
`;

interface Racer {
  readonly child: ChildProcessWithoutNullStreams;
  readonly nextLine: () => Promise<string>;
}

function startRacer(directory: string, owner: string): Racer {
  const child = spawn(process.execPath, ['--input-type=module', '-e', RACER_SCRIPT], {
    env: {
      ...process.env,
      MAILBOX_MODULE: new URL('./mailbox.js', import.meta.url).href,
      MAILBOX_DIRECTORY: directory,
      MAILBOX_OWNER: owner,
    },
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const nextLine = async (): Promise<string> => {
    const next = await lines.next();
    if (next.done === true) throw new Error(`racer ${owner} ended: ${stderr}`);
    return next.value;
  };
  return { child, nextLine };
}

test('mailbox: two processes racing for one epoch get exactly one winner each round', { timeout: 60_000 }, async () => {
  // Goal: the exclusive create decides between processes too, as between two nodes on shared storage.
  await withMailboxDirectory(async (directory) => {
    const owners = ['node-a', 'node-b'];
    const racers = owners.map((owner) => startRacer(directory, owner));
    try {
      for (const racer of racers) assert.equal(await racer.nextLine(), 'ready');
      for (let epoch = 1n; epoch <= 25n; epoch += 1n) {
        for (const racer of racers) racer.child.stdin.write(`${epoch}\n`);
        const outcomes = await Promise.all(racers.map(async (racer) => JSON.parse(await racer.nextLine()) as ClaimOutcome));
        const winner = assertOneWinner(outcomes, owners, epoch);
        const mailbox = await Mailbox.open(directory, 'a');
        assert.deepEqual(await mailbox.currentEpoch(), { epoch, owner: winner });
      }
    } finally {
      for (const racer of racers) racer.child.stdin.end();
      await Promise.all(racers.map((racer) => new Promise((done) => {
        if (racer.child.exitCode !== null) done(undefined);
        else racer.child.once('exit', done);
      })));
    }
  });
});

test('mailbox: a claim below the current epoch is refused, one at it learns the holder', async () => {
  // Goal: claims only grow; claiming the current epoch again is a lost race, not a second holder.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    assert.deepEqual(await mailbox.claim(5n, 'node-a'), { won: true });
    await assert.rejects(mailbox.claim(4n, 'node-b'), isMailboxError('stale-epoch', join(mailbox.folder, 'epoch-4.json')));
    assert.deepEqual(await mailbox.claim(5n, 'node-b'), { won: false, holder: 'node-a' });
    assert.deepEqual(await mailbox.claim(5n, 'node-a'), { won: false, holder: 'node-a' });
    assert.deepEqual(await mailbox.currentEpoch(), { epoch: 5n, owner: 'node-a' });
    await assert.rejects(mailbox.claim(0n, 'node-a'), /epoch 0 out of/);
  });
});

test('mailbox: isFenced is true exactly when a higher claim exists', async () => {
  // Goal: the check a node makes before serving and before each state change.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    assert.equal(await mailbox.isFenced(0n), false);
    await mailbox.claim(3n, 'node-a');
    assert.equal(await mailbox.isFenced(2n), true);
    assert.equal(await mailbox.isFenced(3n), false);
    await mailbox.claim(4n, 'node-b');
    assert.equal(await mailbox.isFenced(3n), true);
    assert.equal(await mailbox.isFenced(4n), false);
  });
});

test('mailbox: writeState refuses a record below the current claim', async () => {
  // Goal: a fenced node cannot overwrite the record of a newer owner.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    await mailbox.writeState(record(0n, null, 'released'));
    await mailbox.claim(1n, 'node-a');
    await mailbox.writeState(record(1n, 'node-a', 'normal'));
    await mailbox.claim(2n, 'node-b');
    await mailbox.writeState(record(2n, 'node-b', 'taken-over'));
    await assert.rejects(
      mailbox.writeState(record(1n, 'node-a', 'released')),
      isMailboxError('stale-epoch', join(mailbox.folder, 'state.json')),
    );
    assert.deepEqual(await mailbox.readState(), record(2n, 'node-b', 'taken-over'));
    await assert.rejects(mailbox.writeState(record(3n, 'node-b', 'normal')), /above the highest claim/);
  });
});

test('mailbox: the state record survives reopening the mailbox', async () => {
  // Goal: what one opening wrote, a later one (another node, a restart) reads back exactly.
  await withMailboxDirectory(async (directory) => {
    const writer = await Mailbox.open(directory, 'a');
    assert.equal(await writer.readState(), undefined);
    await writer.claim(12n, 'node-b');
    const written: FilerStateRecord = { filer: 'a', epoch: 12n, owner: 'node-b', state: 'giveback', updatedAtMs: START_MS + 5 };
    await writer.writeState(written);
    const reader = await Mailbox.open(directory, 'a');
    assert.deepEqual(await reader.readState(), written);
    const onDisk: unknown = JSON.parse(await readFile(join(directory, 'a', 'state.json'), 'utf8'));
    assert.deepEqual(onDisk, { filer: 'a', epoch: '12', owner: 'node-b', state: 'giveback', updatedAtMs: START_MS + 5 });
  });
});

test('mailbox: a torn temporary file left by a crash does not corrupt the state record', async () => {
  // Goal: a write that died before its rename leaves the previous record readable and writable.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    await writeFile(join(mailbox.folder, 'state.json.00112233aabbccdd.tmp'), '{"filer":"a","epoch":"1","ow');
    assert.equal(await mailbox.readState(), undefined);
    await mailbox.claim(1n, 'node-a');
    await mailbox.writeState(record(1n, 'node-a', 'normal'));
    await writeFile(join(mailbox.folder, 'state.json.8899aabbccddeeff.tmp'), '{"filer":"a","epoch":"2"');
    assert.deepEqual(await mailbox.readState(), record(1n, 'node-a', 'normal'));
    await mailbox.writeState(record(1n, 'node-a', 'released'));
    assert.deepEqual(await mailbox.readState(), record(1n, 'node-a', 'released'));
    assert.deepEqual(await mailbox.currentEpoch(), { epoch: 1n, owner: 'node-a' });
  });
});

test('mailbox: a corrupt, oversized or foreign state.json is refused as corrupt, naming the file', async () => {
  // Goal: bad bytes on shared storage become a clear error, never a wrong record or an unbounded read.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    const path = join(mailbox.folder, 'state.json');
    const cases: Array<[string, string]> = [
      ['not JSON', '{"filer":"a",'],
      ['an array', '[]'],
      ['another filer', JSON.stringify({ ...record(1n, 'node-a', 'normal'), filer: 'b', epoch: '1' })],
      ['a numeric epoch', JSON.stringify({ ...record(1n, 'node-a', 'normal'), epoch: 1 })],
      ['an unknown state', JSON.stringify({ ...record(1n, 'node-a', 'normal'), epoch: '1', state: 'serving' })],
      ['too many bytes', ' '.repeat(STATE_BYTES_MAX + 1)],
    ];
    for (const [what, contents] of cases) {
      await writeFile(path, contents);
      await assert.rejects(mailbox.readState(), isMailboxError('corrupt', path), what);
    }
  });
});

test('mailbox: claim files are read defensively', async () => {
  // Goal: names that are not claims are ignored; a claim that is torn, foreign or oversized is corrupt.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a', { claimSettleMs: 20 });
    for (const name of ['epoch-09.json', 'epoch-x.json', 'epoch-9.json.0011.tmp', 'epoch-9', 'notes.txt', `epoch-${'9'.repeat(21)}.json`]) {
      await writeFile(join(mailbox.folder, name), 'not a claim');
    }
    assert.equal(await mailbox.currentEpoch(), undefined);
    const path = join(mailbox.folder, 'epoch-3.json');
    await writeFile(path, '');
    await assert.rejects(mailbox.currentEpoch(), isMailboxError('corrupt', path), 'a torn claim');
    assert.equal(await mailbox.isFenced(2n), true, 'a torn claim still fences: the name decides');
    await writeFile(path, JSON.stringify({ filer: 'b', epoch: '3', owner: 'node-a', claimedAtMs: START_MS }));
    await assert.rejects(mailbox.currentEpoch(), isMailboxError('corrupt', path), 'a claim of another filer');
    await writeFile(path, JSON.stringify({ filer: 'a', epoch: '4', owner: 'node-a', claimedAtMs: START_MS }));
    await assert.rejects(mailbox.currentEpoch(), isMailboxError('corrupt', path), 'a claim naming another epoch');
    await writeFile(path, ' '.repeat(CLAIM_BYTES_MAX + 1));
    await assert.rejects(mailbox.claim(3n, 'node-b'), isMailboxError('corrupt', path), 'an oversized claim');
  });
});

test('mailbox: hand-offs round-trip and are refused below the current claim', async () => {
  // Goal: the releasing node leaves state for the acquiring one; a fenced node cannot leave any.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a', { now: steppingClock() });
    await mailbox.claim(1n, 'node-a');
    assert.equal(await mailbox.readHandoff(1n), undefined);
    const state = { duplicateRequests: [{ xid: 7, reply: 'AAAA' }], mounts: ['10.0.0.9:/export'] };
    await mailbox.writeHandoff(1n, state);
    assert.deepEqual(await (await Mailbox.open(directory, 'a')).readHandoff(1n), state);
    await mailbox.claim(2n, 'node-b');
    await assert.rejects(mailbox.writeHandoff(1n, {}), isMailboxError('stale-epoch', join(mailbox.folder, 'handoff-1.json')));
    assert.deepEqual(await mailbox.readHandoff(1n), state, 'the refused write changed nothing');
    await writeFile(join(mailbox.folder, 'handoff-2.json'), JSON.stringify({ filer: 'a', epoch: '1', state: {} }));
    await assert.rejects(mailbox.readHandoff(2n), isMailboxError('corrupt', join(mailbox.folder, 'handoff-2.json')));
  });
});

test('mailbox: pruning keeps the newest claims and their hand-offs', async () => {
  // Goal: the folder stays bounded; nothing at or above the oldest kept claim is removed.
  await withMailboxDirectory(async (directory) => {
    const mailbox = await Mailbox.open(directory, 'a');
    const last = BigInt(EPOCH_CLAIMS_KEPT + 4);
    for (let epoch = 1n; epoch <= last; epoch += 1n) {
      await mailbox.claim(epoch, epoch % 2n === 0n ? 'node-b' : 'node-a');
      await mailbox.writeHandoff(epoch, { epoch: epoch.toString() });
    }
    await mailbox.writeState(record(last, 'node-b', 'taken-over'));
    const oldestKept = last - BigInt(EPOCH_CLAIMS_KEPT) + 1n;
    const expected = ['state.json'];
    for (let epoch = oldestKept; epoch <= last; epoch += 1n) expected.push(`epoch-${epoch}.json`, `handoff-${epoch}.json`);
    assert.deepEqual((await readdir(mailbox.folder)).sort(), expected.sort());
    assert.deepEqual(await mailbox.readHandoff(oldestKept), { epoch: oldestKept.toString() });
    assert.equal(await mailbox.readHandoff(oldestKept - 1n), undefined);
    assert.deepEqual(await mailbox.currentEpoch(), { epoch: last, owner: 'node-b' });
  });
});

test('mailbox: each filer has its own folder, created on open', async () => {
  // Goal: two filers' mailboxes under one directory do not see each other's claims.
  await withMailboxDirectory(async (directory) => {
    const nested = join(directory, 'shared', 'mailbox');
    const a = await Mailbox.open(nested, 'a');
    const b = await Mailbox.open(nested, 'b');
    await a.claim(3n, 'node-a');
    assert.equal(await b.currentEpoch(), undefined);
    assert.deepEqual((await readdir(nested)).sort(), ['a', 'b']);
    await mkdir(join(nested, 'c'));
    assert.equal(await (await Mailbox.open(nested, 'c')).currentEpoch(), undefined, 'an existing folder is fine');
    await assert.rejects(Mailbox.open(nested, '../a'), /not a folder name/);
  });
});
