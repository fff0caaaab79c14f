// Integration: no spurious failover on a busy machine (docs/design/fencing.md, "Defaults, and
// why"). Every core is kept busy for 60 s by CPU-burning processes at normal priority while a
// healthy pair serves a low-rate probe: heartbeats and lease renewals run in worker threads and
// must keep up, so nothing moves: no takeover, no fence, no epoch change.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import type { EventReport } from '../../src/admin/cluster-service.js';
import { ClusterPair, filerIn, placement } from '../support/cluster-processes.js';
import { ProbeRun } from '../support/probe-run.js';
import { nfsbench } from '../support/nfsbench.js';

const LOAD_MS = 60_000;
/** A low rate: the probe is there to see pauses, not to add load. */
const PROBE_RATE = 200;
/** Each burner stops by itself at LOAD_MS; past this it is killed. */
const BURNER_DEADLINE_MS = LOAD_MS + 15_000;
const MOVES: readonly EventReport['kind'][] = ['takeover', 'giveback', 'fence', 'rollback', 'fault'];

/** A process that spins on one core for `ms` and exits. */
function burner(ms: number): { child: ChildProcess; exited: Promise<void> } {
  const child = spawn(process.execPath, ['-e', `const end = Date.now() + ${ms}; let x = 0; while (Date.now() < end) x = (x + 1) | 0;`], { stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited };
}

test('failover: 60 s of every core saturated on a healthy pair: no takeover, no fence, epochs unchanged', { timeout: LOAD_MS + 120_000 }, async (t) => {
  const pair = await ClusterPair.start('failover-load');
  t.after(() => pair.stop());
  const epochs = { a: pair.readMailbox('a'), b: pair.readMailbox('b') };
  const atStart = placement(await pair.statusOf('a'));
  const probe = new ProbeRun(await nfsbench(), pair.urlOf('a'), { rate: PROBE_RATE, maxSecs: Math.ceil(LOAD_MS / 1000) + 30 });
  t.after(() => probe.kill());
  await probe.untilSecond(1);

  const count = os.availableParallelism();
  const startedAtMs = Date.now();
  const burners = Array.from({ length: count }, () => burner(LOAD_MS));
  t.after(() => {
    for (const { child } of burners) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`the CPU burners did not stop within ${BURNER_DEADLINE_MS} ms`)), BURNER_DEADLINE_MS);
  });
  try {
    await Promise.race([Promise.all(burners.map((b) => b.exited)), late]);
  } finally {
    clearTimeout(timer);
  }
  const loadMs = Date.now() - startedAtMs;
  await probe.untilSecond(probe.second + 1);
  const figures = await probe.finish();

  const moved: EventReport[] = [];
  for (const node of ['a', 'b']) moved.push(...(await pair.events(node)).filter((event) => MOVES.includes(event.kind)));
  t.diagnostic(`${count} burners for ${loadMs} ms; probe: max_pause_ms=${figures.maxPauseMs} max_latency_ms=${figures.values.get('max_latency_ms')} errors=${figures.errors} ops=${figures.values.get('ops')} reconnects=${figures.values.get('reconnects')}`);
  assert.deepEqual(moved, [], 'no takeover, giveback, fence or fault on either node');
  for (const filer of ['a', 'b'] as const) {
    const now = pair.readMailbox(filer);
    assert.deepEqual({ epoch: now.epoch, owner: now.owner }, { epoch: epochs[filer].epoch, owner: epochs[filer].owner }, `filer ${filer}'s epoch is unchanged`);
  }
  const after = await pair.statusOf('a');
  assert.deepEqual(placement(after), atStart);
  assert.equal(filerIn(after, 'a').phase, 'serving');
  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.equal(figures.values.get('reconnects'), '0', `the client never lost its connection\n${figures.stdout}`);
  assert.equal(figures.errors, 0, figures.stdout);
});
