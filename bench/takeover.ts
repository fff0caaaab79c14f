// `npm run bench:takeover`: what a client sees while filer a moves back and forth. Initialises a
// loopback pair in a scratch directory (filer addresses 127.0.0.31 and 127.0.0.32 and free ports,
// so nothing collides with a running demo), runs both nodes as `tandem node` processes, points
// one nfsbench probe (../shared/bench/nfsbench.c) at filer a, and meanwhile drives CYCLES
// takeover/giveback cycles of filer a through the CLI. Prints the phase timings the nodes
// reported (median and maximum, takeovers and givebacks apart), the probe's figures, and the
// pause per operation from the probe's 10 ms timeline. A benchmark, not a test: a missed target
// still exits 0; a cluster that does not start or a command that fails exits 1.
//
// Raw output in the out directory: probe.txt, timeline.csv, pauses.csv (every ok=0 run),
// operations.csv (each operation on the probe's clock, its pause and phases), commands.jsonl
// (each command's JSON), node-a.log, node-b.log, tandem.yaml and summary.txt.
//
// env: BENCH_CYCLES (20), BENCH_MAX_SECS (180: the whole run), BENCH_OUT (default
//      bench/out/takeover-<timestamp>), BENCH_PROBE_RATE (2000 requests/s).

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CommandReport, EventReport } from '../src/admin/cluster-service.js';
import { nfsbench, summary } from '../test/support/nfsbench.js';
import { BenchFailure, sleep, startLoopbackPair, stopChild, tandem, within, type LoopbackPair } from './loopback-pair.js';
import { median } from './stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'out', `takeover-${STAMP}`);
const CYCLES = Number(process.env.BENCH_CYCLES ?? 20);
const MAX_SECS = Number(process.env.BENCH_MAX_SECS ?? 180);
const PROBE_RATE = Number(process.env.BENCH_PROBE_RATE ?? 2000);
const FILER_ADDRESSES: readonly [string, string] = ['127.0.0.31', '127.0.0.32'];
const FILER = 'a';
/** Probe activity between one operation's end and the next one's start. */
const SETTLE_MS = 500;
/** How long the probe may take to start. */
const START_DEADLINE_MS = 30_000;
/** Time kept at the end of BENCH_MAX_SECS for the probe's final check and the shutdown. */
const RESERVE_MS = 20_000;
const TAIL_MS = 1_000;
const BIN_MS = 10;
/** How long after an operation's end its pause may still begin (the client reconnects). */
const AROUND_AFTER_MS = 100;
const TARGET_PAUSE_MS = 100;
const PHASES = ['check', 'negotiate', 'drain', 'release', 'claim', 'serve', 'total'] as const;

const startedAt = Date.now();
const runDeadline = startedAt + MAX_SECS * 1000;

interface Operation {
  readonly kind: 'takeover' | 'giveback';
  readonly cycle: number;
  /** Wall clock around the CLI process. */
  readonly spawnedAtMs: number;
  readonly exitedAtMs: number;
  readonly event: EventReport;
}

interface Pause {
  readonly startMs: number;
  readonly lengthMs: number;
}

// ---- processes ----

/** The shared process runner (test/support), its deadline failure reported as a BenchFailure. */
async function operate(configFile: string, kind: Operation['kind'], cycle: number, log: string[]): Promise<Operation> {
  const spawnedAtMs = Date.now();
  const result = await tandem([kind, FILER, '--config', configFile, '--json']);
  const exitedAtMs = Date.now();
  log.push(JSON.stringify({ kind, cycle, spawnedAtMs, exitedAtMs, code: result.code, stdout: result.stdout, stderr: result.stderr }));
  let report: CommandReport | undefined;
  try {
    report = JSON.parse(result.stdout) as CommandReport;
  } catch {
    report = undefined;
  }
  if (result.code !== 0 || report === undefined || !report.ok || report.event.outcome !== 'completed') {
    const why = report !== undefined && !report.ok ? report.reason : `exit ${result.code}: ${result.stderr.trim() || result.stdout.trim()}`;
    throw new BenchFailure(`${kind} ${FILER} (cycle ${cycle}) failed: ${why}`);
  }
  return { kind, cycle, spawnedAtMs, exitedAtMs, event: report.event };
}

// ---- the probe ----

interface Probe {
  readonly child: ChildProcess;
  /** Wall clock of the probe's t=0 (its timeline's origin); see startProbe. */
  readonly t0Ms: () => number;
  /** Wall clock of the probe's program start (the origin of its `# [t s]` event lines). */
  readonly programStartMs: () => number;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
  /** Ends the load (SIGINT): the probe finishes what is pending and runs its final check. */
  readonly stop: () => void;
}

/**
 * Starts a probe and resolves once it reports its first second. nfsbench flushes stdout only
 * with its per-second lines, each printed as second k ends, so the probe's t=0 on our clock is
 * the earliest (arrival - k s) over those lines, until it is stopped (at its exit it prints the
 * second in progress at once). Its event lines (`# [t s] ...`, flushed at
 * once) count from the program's start instead, found the same way.
 */
function startProbe(binary: string, url: string, secs: number, timeline: string): Promise<Probe> {
  const args = ['probe', '-t', String(secs), '-r', String(PROBE_RATE), '-M', '8m', '-o', timeline, url];
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const chunks: string[] = [`$ nfsbench ${args.join(' ')}\n`];
  const output = () => chunks.join('');
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stderr.on('data', (chunk: Buffer) => chunks.push(chunk.toString()));
  let t0Ms = Infinity;
  let programStartMs = Infinity;
  let stopping = false;
  const stop = () => {
    stopping = true;
    child.kill('SIGINT');
  };
  let partial = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new BenchFailure(`the probe did not start within ${START_DEADLINE_MS} ms:\n${output()}`));
    }, START_DEADLINE_MS);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new BenchFailure(`the probe exited (${code}) before it started:\n${output()}`));
    });
    child.stdout.on('data', (chunk: Buffer) => {
      const arrivedMs = Date.now();
      const text = chunk.toString();
      chunks.push(text);
      const lines = (partial + text).split('\n');
      partial = lines.pop()!;
      for (const line of lines) {
        const second = /^\s*(\d+)\s+\d+\s+\d+\s+\d+\s/.exec(line);
        if (second !== null && !stopping) t0Ms = Math.min(t0Ms, arrivedMs - Number(second[1]) * 1000);
        const event = /^# \[\s*([\d.]+) s\]/.exec(line);
        if (event !== null) programStartMs = Math.min(programStartMs, arrivedMs - Number(event[1]) * 1000);
      }
      if (Number.isFinite(t0Ms)) {
        clearTimeout(timer);
        resolve({ child, t0Ms: () => t0Ms, programStartMs: () => programStartMs, output, exited, stop });
      }
    });
  });
}

// ---- figures ----


const max = (values: readonly number[]) => values.reduce((m, v) => Math.max(m, v), -Infinity);

/** The runs of bins with ok=0 in a timeline CSV (t_ms,ops,ok,...), in probe time. */
function pauses(csv: string): { pauses: Pause[]; endMs: number } {
  const rows = csv.trim().split('\n').slice(1).map((line) => line.split(',').map(Number));
  const found: Pause[] = [];
  let start: number | undefined;
  let endMs = 0;
  for (const [t, , ok] of rows) {
    if (t === undefined || ok === undefined || Number.isNaN(t)) continue;
    endMs = t + BIN_MS;
    if (ok === 0) start ??= t;
    else if (start !== undefined) {
      found.push({ startMs: start, lengthMs: t - start });
      start = undefined;
    }
  }
  if (start !== undefined) found.push({ startMs: start, lengthMs: endMs - start });
  return { pauses: found, endMs };
}

/** An operation on the probe's clock. */
interface Placed {
  readonly operation: Operation;
  /** The CLI process's start and exit. */
  readonly cliFrom: number;
  readonly cliTo: number;
  /** The operation itself, as its event reports it (atMs is its end). */
  readonly from: number;
  readonly to: number;
  /** Its pause: the longest ok=0 run overlapping [from - one bin, to + AROUND_AFTER_MS]. */
  pause: Pause | undefined;
}

function place(operations: readonly Operation[], t0Ms: number): Placed[] {
  return operations.map((operation) => {
    const to = operation.event.atMs - t0Ms;
    return { operation, cliFrom: operation.spawnedAtMs - t0Ms, cliTo: operation.exitedAtMs - t0Ms, from: to - (operation.event.phases.total ?? 0), to, pause: undefined };
  });
}

/**
 * Gives each operation the longest ok=0 run around it, and sorts the other runs into those that
 * began while a CLI command was starting (before its operation began) and the rest.
 */
function attribute(placed: Placed[], found: readonly Pause[]): { startup: Pause[]; other: Pause[] } {
  const startup: Pause[] = [];
  const other: Pause[] = [];
  for (const pause of found) {
    const end = pause.startMs + pause.lengthMs;
    const owner = placed.find((op) => pause.startMs <= op.to + AROUND_AFTER_MS && end > op.from - BIN_MS);
    if (owner !== undefined) {
      if (owner.pause === undefined || pause.lengthMs > owner.pause.lengthMs) owner.pause = pause;
    } else if (placed.some((op) => pause.startMs >= op.cliFrom && pause.startMs < op.from)) startup.push(pause);
    else other.push(pause);
  }
  return { startup, other };
}

/** The probe's connection losses (event time + `offsetMs`) and how long each reconnect took. */
function connectionLosses(output: string, offsetMs: number): { atMs: number; reconnectMs: number | undefined }[] {
  const losses: { atMs: number; reconnectMs: number | undefined }[] = [];
  const seen = new Set<string>();
  for (const match of output.matchAll(/^# \[\s*([\d.]+) s\] (connection lost|reconnected after ([\d.]+) ms)/gm)) {
    if (seen.has(match[0])) continue;
    seen.add(match[0]);
    if (match[3] === undefined) losses.push({ atMs: Number(match[1]) * 1000 + offsetMs, reconnectMs: undefined });
    else if (losses.length > 0) losses[losses.length - 1]!.reconnectMs = Number(match[3]);
  }
  return losses;
}

const ms = (value: number) => (Number.isFinite(value) ? String(Math.round(value)) : '-');

function phaseTable(operations: readonly Operation[]): string[] {
  const lines = [`phase ms     ${PHASES.map((p) => p.padStart(10)).join('')}`];
  for (const kind of ['takeover', 'giveback'] as const) {
    const events = operations.filter((op) => op.kind === kind).map((op) => op.event.phases);
    for (const [label, reduce] of [['median', median], ['max', max]] as const) {
      const cells = PHASES.map((phase) => {
        const values = events.map((phases) => phases[phase]).filter((v): v is number => typeof v === 'number');
        return (values.length === 0 ? '-' : ms(reduce(values))).padStart(10);
      });
      lines.push(`${`${kind} ${label}`.padEnd(13)}${cells.join('')}  (n=${events.length})`);
    }
  }
  return lines;
}

// ---- main ----

async function main(): Promise<number> {
  for (const [name, value] of [['BENCH_CYCLES', CYCLES], ['BENCH_MAX_SECS', MAX_SECS], ['BENCH_PROBE_RATE', PROBE_RATE]] as const) {
    if (!Number.isInteger(value) || value < 1) {
      console.error(`bench:takeover: ${name} must be a positive integer, not ${JSON.stringify(process.env[name])}`);
      return 1;
    }
  }
  mkdirSync(OUT, { recursive: true });
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'tandem-bench-takeover-'));
  let pair: LoopbackPair | undefined;
  const commandLog: string[] = [];
  const operations: Operation[] = [];
  let probe: Probe | undefined;
  let failure: string | undefined;
  let clusterStarted = false;
  const printed: string[] = [];
  const say = (line = '') => {
    printed.push(line);
    console.log(line);
  };
  let interrupted = false;
  const onSignal = () => {
    interrupted = true;
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    const binary = await nfsbench();
    pair = await startLoopbackPair({ directory: path.join(scratch, 'cluster'), out: OUT, filerAddresses: FILER_ADDRESSES, filer: FILER, nfsbenchBinary: binary });
    const { configFile, url } = pair;
    clusterStarted = true;

    const cyclesDeadline = runDeadline - RESERVE_MS;
    const secs = Math.max(5, Math.ceil((cyclesDeadline - Date.now()) / 1000) + 2);
    probe = await startProbe(binary, url, secs, path.join(OUT, 'timeline.csv'));
    const probeExitedEarly = () => probe!.child.exitCode !== null || probe!.child.signalCode !== null;
    await sleep(SETTLE_MS);
    try {
      for (let cycle = 1; cycle <= CYCLES; cycle++) {
        if (Date.now() > cyclesDeadline || interrupted || probeExitedEarly()) break;
        operations.push(await operate(configFile, 'takeover', cycle, commandLog));
        await sleep(SETTLE_MS);
        operations.push(await operate(configFile, 'giveback', cycle, commandLog));
        await sleep(SETTLE_MS);
      }
    } catch (error) {
      if (!(error instanceof BenchFailure)) throw error;
      failure = error.message;
    }
    await sleep(TAIL_MS);
    probe.stop();
    const probeExit = await within(probe.exited, Math.max(30_000, runDeadline - Date.now()));
    if (probeExit === 'timeout') {
      probe.child.kill('SIGKILL');
      failure ??= 'the probe did not finish its final check in time';
    }
  } catch (error) {
    if (!(error instanceof BenchFailure)) throw error;
    failure = error.message;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    if (probe !== undefined) await stopChild(probe.child, 'SIGKILL', 1000);
    await pair?.stop();
    rmSync(scratch, { recursive: true, force: true });
    writeFileSync(path.join(OUT, 'commands.jsonl'), commandLog.map((line) => `${line}\n`).join(''));
    if (probe !== undefined) writeFileSync(path.join(OUT, 'probe.txt'), probe.output());
  }

  if (!clusterStarted) {
    console.error(`bench:takeover: the cluster did not start: ${failure ?? 'unknown reason'}`);
    return 1;
  }

  const cycles = operations.filter((op) => op.kind === 'giveback').length;
  say(`\n## Takeover/giveback of filer ${FILER}: ${cycles} of ${CYCLES} cycles, probe at ${PROBE_RATE} req/s (raw output in ${OUT})\n`);
  if (operations.length > 0) for (const line of phaseTable(operations)) say(line);

  let figures: Map<string, string> | undefined;
  try {
    figures = summary(probe?.output() ?? '', 'probe');
  } catch {
    figures = undefined;
    failure ??= 'the probe printed no final line';
  }
  if (figures !== undefined) {
    const keys = ['max_pause_ms', 'errors', 'stale_handles', 'lost_acked_writes', 'verf_changes', 'reconnects', 'retransmits', 'timeouts', 'jukebox'];
    say('');
    say(`probe: ${keys.map((key) => `${key}=${figures!.get(key) ?? '-'}`).join(' ')}`);
    const reconnectTimes = [...(probe?.output() ?? '').matchAll(/reconnected after ([\d.]+) ms/g)].map((m) => Number(m[1]));
    if (reconnectTimes.length > 0) {
      say(`client reconnect (connection lost to reconnected): median ${ms(median(reconnectTimes))} ms, max ${ms(max(reconnectTimes))} ms over ${reconnectTimes.length}`);
    }
  }

  if (probe !== undefined && operations.length > 0) {
    let csv = '';
    try {
      csv = readFileSync(path.join(OUT, 'timeline.csv'), 'utf8');
    } catch {
      csv = '';
    }
    if (csv !== '') {
      const { pauses: found } = pauses(csv);
      const t0 = probe.t0Ms();
      const placed = place(operations, t0);
      const { startup, other } = attribute(placed, found);
      const programOffset = probe.programStartMs() - t0;
      const losses = connectionLosses(probe.output(), Number.isFinite(programOffset) ? programOffset : 0);
      say('');
      say(`pause per operation (longest run of ${BIN_MS} ms bins with ok=0, from the operation's start to ${AROUND_AFTER_MS} ms after its end):`);
      for (const kind of ['takeover', 'giveback'] as const) {
        const ofKind = placed.filter((op) => op.operation.kind === kind);
        const values = ofKind.map((op) => op.pause?.lengthMs ?? 0);
        const worst = ofKind.reduce<Placed | undefined>((best, op) => ((op.pause?.lengthMs ?? 0) > (best?.pause?.lengthMs ?? 0) ? op : best), undefined);
        const worstText = worst === undefined ? '' : ` (cycle ${worst.operation.cycle})`;
        say(`  ${kind.padEnd(9)} median ${ms(median(values))} ms, max ${ms(max(values))} ms${worstText}`);
      }
      const paused = placed.filter((op) => op.pause !== undefined);
      if (paused.length > 0) {
        const startLag = paused.map((op) => op.pause!.startMs - op.from);
        const endLag = paused.map((op) => op.pause!.startMs + op.pause!.lengthMs - op.to);
        say(`  median: the pause starts ${ms(median(startLag))} ms after the operation starts and ends ${ms(median(endLag))} ms after it ends (max ${ms(max(endLag))})`);
      }
      const describe = (runs: readonly Pause[]) => `max ${runs.length === 0 ? 0 : ms(max(runs.map((r) => r.lengthMs)))} ms, ${runs.filter((r) => r.lengthMs >= 30).length} of >= 30 ms`;
      say(`pauses outside the operations: while a CLI command starts up ${describe(startup)}; elsewhere ${describe(other)}`);
      const rows = ['kind,cycle,cli_start_ms,cli_end_ms,op_start_ms,op_end_ms,pause_start_ms,pause_ms,lost_at_ms,reconnect_ms,' + PHASES.join(',')];
      for (const [index, op] of placed.entries()) {
        const next = placed[index + 1]?.cliFrom ?? Infinity;
        const loss = losses.find((l) => l.atMs >= op.cliFrom && l.atMs < next);
        rows.push(
          [
            op.operation.kind,
            op.operation.cycle,
            Math.round(op.cliFrom),
            Math.round(op.cliTo),
            Math.round(op.from),
            Math.round(op.to),
            op.pause?.startMs ?? '',
            op.pause?.lengthMs ?? 0,
            loss === undefined ? '' : Math.round(loss.atMs),
            loss?.reconnectMs ?? '',
            ...PHASES.map((p) => op.operation.event.phases[p] ?? ''),
          ].join(','),
        );
      }
      const pauseRows = ['start_ms,length_ms', ...found.map((pause) => `${pause.startMs},${pause.lengthMs}`)];
      writeFileSync(path.join(OUT, 'pauses.csv'), `${pauseRows.join('\n')}\n`);
      writeFileSync(path.join(OUT, 'operations.csv'), `${rows.join('\n')}\n`);
    }
  }

  const maxPause = Number(figures?.get('max_pause_ms') ?? NaN);
  const errors = Number(figures?.get('errors') ?? NaN);
  const met = maxPause <= TARGET_PAUSE_MS && errors === 0;
  say('');
  say(`cycles completed: ${cycles} of ${CYCLES}`);
  say(`target (longest pause <= ${TARGET_PAUSE_MS} ms, 0 errors): ${met ? 'met' : 'MISSED'} (max_pause_ms=${figures?.get('max_pause_ms') ?? '-'}, errors=${figures?.get('errors') ?? '-'})`);
  if (failure !== undefined) say(`FAILED: ${failure}`);
  writeFileSync(path.join(OUT, 'summary.txt'), `${printed.join('\n')}\n`);
  return failure === undefined ? 0 : 1;
}

process.exitCode = await main();
