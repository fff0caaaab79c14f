// `npm run bench:failover`: what a client sees when the node serving filer a fails. Starts a
// loopback pair (test/support/cluster-processes.ts: filer addresses 127.0.0.41 and 127.0.0.42
// and free ports, so nothing collides with the tests or a demo; default timing), and for each
// run points a fresh nfsbench probe (../shared/bench/nfsbench.c) at filer a, fails node a, waits
// for b's failure takeover, lets the probe see two more seconds, ends it and reads its figures;
// then restores the pair (restart the killed node, mend the faults) and gives a back.
//
// Two failures (docs/design/fencing.md):
// - kill: kill -9 of node a. Its sockets close at once, b's probe finds them refusing and claims
//   without waiting out the lease. Target: longest client pause <= 300 ms.
// - silent: node a's interconnect cut (its fault file) and its mailbox made unreachable (its own
//   mailbox path, a symbolic link, pointed at nothing) at the same instant: a looks alive to a
//   connection probe but renews nothing, so it fences itself when its lease runs out and b claims
//   once it has seen the lease unchanged for leaseMs x 1.01 + margin. Target: <= 1.5 s. (SIGSTOP
//   cannot stand in for this with the loopback address backend: a stopped process keeps its
//   listening socket on the filer's address, so b cannot bind it until a resumes; see
//   test/integration/failover-fencing.test.ts.)
//
// Prints each run (max_pause_ms, errors, stale handles, lost acknowledged writes, failure to
// b serving, b's phase timings: detect, check, claim, serve, total) and a summary per failure
// (median and max). A benchmark, not a test: a missed target still exits 0; a pair that cannot
// be started or restored exits 1. Raw output (every probe's report, every node process's log,
// the summary) goes to bench/out/failover-<timestamp>/ (BENCH_OUT overrides).
//
// usage: node dist/bench/failover.js [--runs N] [--kill N] [--silent N] [--rate REQ_PER_S]
//        (default 10 runs of each, probe at 1000 requests/s)

import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { EventReport } from '../src/admin/cluster-service.js';
import { ClusterPair, filerIn, NODE_NAMES } from '../test/support/cluster-processes.js';
import { ProbeRun, type ProbeFigures } from '../test/support/probe-run.js';
import { nfsbench } from '../test/support/nfsbench.js';
import { median } from './stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'out', `failover-${STAMP}`);
const FILER_ADDRESSES: readonly [string, string] = ['127.0.0.41', '127.0.0.42'];
const PHASES = ['detect', 'check', 'claim', 'serve', 'total'] as const;
const TARGET_MS = { kill: 300, silent: 1_500 } as const;
/** The failover, a lease wait, a restart, a reconnect after a cut (its handshake times out in 5 s). */
const STEP_DEADLINE_MS = 30_000;

type Scenario = 'kill' | 'silent';

interface Run {
  readonly scenario: Scenario;
  readonly index: number;
  readonly figures: ProbeFigures;
  /** Wall clock from the failure to b's takeover event (b serving a). */
  readonly failureToServedMs: number;
  readonly takeover: EventReport;
}

class BenchFailure extends Error {}

function options(): { kill: number; silent: number; rate: number } {
  const { values } = parseArgs({
    options: { runs: { type: 'string' }, kill: { type: 'string' }, silent: { type: 'string' }, rate: { type: 'string' } },
    allowPositionals: false,
  });
  const count = (value: string | undefined, fallback: number, name: string) => {
    const n = value === undefined ? fallback : Number(value);
    if (!Number.isInteger(n) || n < 0) throw new BenchFailure(`--${name} must be a whole number, not ${JSON.stringify(value)}`);
    return n;
  };
  const runs = count(values.runs, 10, 'runs');
  const rate = count(values.rate, 1000, 'rate');
  if (rate < 1) throw new BenchFailure('--rate must be at least 1');
  return { kill: count(values.kill, runs, 'kill'), silent: count(values.silent, runs, 'silent'), rate };
}

// ---- the pair ----

/** Both nodes running and connected, each filer served by its home node (givebacks as needed). */
async function bringHome(pair: ClusterPair): Promise<void> {
  pair.restoreMailbox('a');
  for (const node of NODE_NAMES) {
    pair.setFault(node, null);
    if (!pair.isRunning(node)) pair.startNode(node);
  }
  const servedBy = await pair.waitFor('each filer served by exactly one connected node', async () => {
    const statuses = await Promise.all(NODE_NAMES.map((node) => pair.statusOf(node)));
    if (statuses.some((status) => status.operation !== null || !status.nodes.every((node) => node.interconnectUp))) return { last: 'not connected or busy' };
    const served = new Map<string, string>();
    for (const filer of ['a', 'b']) {
      const serving = statuses.filter((status) => filerIn(status, filer).phase === 'serving');
      if (serving.length !== 1) return { last: { filer, serving: serving.map((s) => s.node) } };
      served.set(filer, serving[0]!.node);
    }
    return { value: served };
  }, STEP_DEADLINE_MS);
  for (const [filer, node] of servedBy) {
    if (node === filer) continue;
    const outcome = await pair.giveback(filer);
    if (!outcome.report.ok) throw new BenchFailure(`giveback ${filer} failed: ${outcome.report.reason}`);
  }
  await pair.waitUntilSettled();
}

async function oneRun(pair: ClusterPair, binary: string, scenario: Scenario, index: number, rate: number): Promise<Run> {
  await bringHome(pair);
  const probe = new ProbeRun(binary, pair.urlOf('a'), { rate, maxSecs: 90 });
  try {
    await probe.untilSecond(2);
    let failedAtMs: number;
    if (scenario === 'kill') {
      failedAtMs = await pair.killNode('a');
    } else {
      // a may fence itself by exiting (calls still running past the grace): allowed.
      pair.mayExit('a');
      failedAtMs = Date.now();
      pair.breakMailbox('a');
      pair.setFault('a', { interconnect: 'cut' });
    }
    const takeover = await pair.waitForEvent('b', "b's takeover of a", (event) => event.kind === 'takeover' && event.filer === 'a' && event.outcome === 'completed' && event.atMs >= failedAtMs, STEP_DEADLINE_MS);
    await probe.untilSecond(probe.second + 2);
    const figures = await probe.finish();
    writeFileSync(path.join(OUT, `probe-${scenario}-${index}.txt`), probe.output);
    return { scenario, index, figures, failureToServedMs: takeover.atMs - failedAtMs, takeover };
  } finally {
    await probe.kill();
  }
}

// ---- figures ----


const max = (values: readonly number[]) => (values.length === 0 ? NaN : values.reduce((m, v) => Math.max(m, v), -Infinity));
const shown = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');

/** Which way b decided: the probe found a gone, or it waited out the lease. */
function pathOf(takeover: EventReport): string {
  const detail = takeover.detail ?? '';
  if (detail.includes('process is gone')) return 'gone';
  if (detail.includes('lease')) return 'lease';
  return 'other';
}

function runLine(run: Run): string {
  const f = run.figures;
  const phases = PHASES.map((phase) => shown(run.takeover.phases[phase] ?? NaN).padStart(7)).join('');
  return `${run.scenario.padEnd(7)}${String(run.index).padStart(4)}${shown(f.maxPauseMs, 1).padStart(10)}${String(f.errors).padStart(7)}${String(f.staleHandles).padStart(7)}${String(f.values.get('lost_acked_writes') ?? '-').padStart(6)}${String(run.failureToServedMs).padStart(9)}${phases}  ${pathOf(run.takeover)}${f.errors > 0 ? `  (${f.errorsByStatus})` : ''}`;
}

const HEADER = `${'run'.padEnd(7)}${'#'.padStart(4)}${'pause_ms'.padStart(10)}${'errors'.padStart(7)}${'stale'.padStart(7)}${'lost'.padStart(6)}${'->serve'.padStart(9)}${PHASES.map((p) => p.padStart(7)).join('')}  path`;

function summaryLines(scenario: Scenario, runs: readonly Run[]): string[] {
  if (runs.length === 0) return [];
  const column = (pick: (run: Run) => number) => runs.map(pick);
  const row = (label: string, values: readonly number[], digits = 0) => `  ${label.padEnd(26)} median ${shown(median(values), digits).padStart(8)}   max ${shown(max(values), digits).padStart(8)}`;
  const pauses = column((run) => run.figures.maxPauseMs);
  const lines = [
    `${scenario}: ${runs.length} runs (paths: ${[...new Set(runs.map((run) => pathOf(run.takeover)))].map((p) => `${p} ${runs.filter((run) => pathOf(run.takeover) === p).length}`).join(', ')})`,
    row('max_pause_ms', pauses, 1),
    row('errors', column((run) => run.figures.errors)),
    row('stale handles', column((run) => run.figures.staleHandles)),
    row('lost acknowledged writes', column((run) => run.figures.lostAckedWrites)),
    row('failure -> b serving (ms)', column((run) => run.failureToServedMs)),
    ...PHASES.map((phase) => row(`b's ${phase} (ms)`, column((run) => run.takeover.phases[phase] ?? NaN))),
  ];
  const worst = max(pauses);
  lines.push(`  target (longest pause <= ${TARGET_MS[scenario]} ms, 0 stale, 0 lost): ${worst <= TARGET_MS[scenario] && runs.every((run) => run.figures.staleHandles === 0 && run.figures.lostAckedWrites === 0) ? 'met' : 'MISSED'} (max ${shown(worst, 1)} ms)`);
  return lines;
}

// ---- main ----

async function main(): Promise<number> {
  const settings = options();
  mkdirSync(OUT, { recursive: true });
  const printed: string[] = [];
  const say = (line = '') => {
    printed.push(line);
    console.log(line);
  };
  const binary = await nfsbench();
  const pair = await ClusterPair.start('bench-failover', { faults: true, mailboxLinks: ['a'], filerAddresses: FILER_ADDRESSES });
  const runs: Run[] = [];
  let failure: string | undefined;
  say(`## Failover of filer a: ${settings.kill} kill -9 runs, ${settings.silent} silent-failure runs, probe at ${settings.rate} req/s (raw output in ${OUT})`);
  say('');
  say(HEADER);
  try {
    const plan: Scenario[] = [...Array<Scenario>(settings.kill).fill('kill'), ...Array<Scenario>(settings.silent).fill('silent')];
    const counters = { kill: 0, silent: 0 };
    for (const scenario of plan) {
      const run = await oneRun(pair, binary, scenario, ++counters[scenario], settings.rate);
      runs.push(run);
      say(runLine(run));
    }
    await bringHome(pair);
  } catch (error) {
    failure = error instanceof Error ? error.message.split('\n')[0] : String(error);
  } finally {
    writeFileSync(path.join(OUT, 'nodes.log'), pair.logHistory);
    await pair.stop().catch((error: unknown) => {
      failure ??= `stopping the pair: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`;
    });
  }
  say('');
  for (const scenario of ['kill', 'silent'] as const) for (const line of summaryLines(scenario, runs.filter((run) => run.scenario === scenario))) say(line);
  if (failure !== undefined) say(`FAILED: ${failure}`);
  writeFileSync(path.join(OUT, 'summary.txt'), `${printed.join('\n')}\n`);
  return failure === undefined ? 0 : 1;
}

try {
  process.exitCode = await main();
} catch (error) {
  console.error(`bench:failover: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
}
