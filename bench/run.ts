// `npm run bench`: the shared nfsbench set (../shared/bench/run-bench.sh) against Tandem and,
// when NFS-Ganesha is installed, against Ganesha, back to back in one run on the same kind of
// backing directory (tmpfs under /dev/shm, so the server and not the disk is measured). Tandem
// runs as deployed: a loopback pair (two `tandem node` processes, leases, reply mirroring),
// measured on filer a, and in the set's last step, a paced probe, filer a is taken over by b: the
// probe's longest pause is the planned-takeover pause of the same run. Prints both servers'
// figures side by side with the ratio per row, and each server's peak resident memory (Tandem:
// node a, which served the whole set). A benchmark, not a test: it asserts nothing and reports
// what it saw.
//
// The set runs in rounds, Tandem then Ganesha in each (BENCH_ROUNDS, default 3), and each row is
// the median over the rounds (a meta row: over every meta run of every round), the pause the
// longest of the rounds and the resident memory the highest. One round decided little on these
// shared machines: a server's figure moved 20-40% between rounds, and a meta phase of 11
// READDIRPLUS calls was decided by whether one GC pause fell in it. Alternating the servers
// spreads a slow spell of the host over both.
//
// env: BENCH_OUT (default bench/out/<timestamp>), BENCH_ROUNDS (3), BENCH_DATA_SECS (15), BENCH_META_REPEAT (3),
//      BENCH_PORT_GANESHA (32149; MOUNT on +1), SKIP_GANESHA=1, BENCH_NODE_OPTIONS (extra Node.js
//      options for Tandem's nodes, space-separated: `--cpu-prof --cpu-prof-dir=/tmp/prof` profiles them).

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { nfsbench } from '../test/support/nfsbench.js';
import { startLoopbackPair, TANDEM } from './loopback-pair.js';
import { median } from './stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED_BENCH = path.resolve(REPO, '..', 'shared', 'bench');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'out', STAMP);
const TMPFS = path.join('/dev/shm', `tandem-bench-${process.pid}`);
const DATA_SECS = process.env.BENCH_DATA_SECS ?? '15';
const META_REPEAT = process.env.BENCH_META_REPEAT ?? '3';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) throw new Error(`BENCH_ROUNDS must be a whole number of at least 1, not ${process.env.BENCH_ROUNDS}`);
const GANESHA_PORT = Number(process.env.BENCH_PORT_GANESHA ?? 32149);
const GANESHA_START_ATTEMPTS = 3;
/** Filer addresses of the measured pair: apart from the demo's and bench:takeover's. */
const TANDEM_FILER_ADDRESSES: readonly [string, string] = ['127.0.0.41', '127.0.0.42'];
/** When, in the 10 s probe, filer a is taken over. */
const PROBE_AT_SECS = 5;
/** The takeover issue's target for a planned takeover's client pause. */
const TAKEOVER_PAUSE_TARGET_MS = 100;

interface Figures {
  readonly rows: Map<string, number>;
  /** The highest of the rounds' peaks. */
  readonly peakRssMiB: number | undefined;
  /** Each round's peak, in order. */
  readonly roundPeaksMiB: readonly number[];
}

function sh(command: string, args: string[], env: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: 'inherit', env: { ...process.env, ...env } });
    child.on('error', reject);
    child.on('close', (code) => resolve(code ?? 1));
  });
}

/** VmHWM: the peak resident set of a live process, in MiB. */
function peakRssMiB(pid: number): number | undefined {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmHWM:'));
    return line === undefined ? undefined : Number(line.split(/\s+/)[1]) / 1024;
  } catch {
    return undefined;
  }
}

function summaryLine(file: string, mode: string): Map<string, string> | undefined {
  if (!existsSync(file)) return undefined;
  const line = readFileSync(file, 'utf8').split('\n').reverse().find((l) => l.startsWith(`${mode}: `));
  if (line === undefined) return undefined;
  return new Map(line.slice(mode.length + 2).split(' ').map((kv) => kv.split('=', 2) as [string, string]));
}


/** The probe's longest pause: for Tandem, the planned takeover's; for Ganesha, none is made. */
const PAUSE_ROW = 'probe max pause ms (Tandem: with a planned takeover)';

const META_PHASES = ['create', 'lookup', 'getattr', 'setattr', 'readdirp', 'remove', 'mkdir', 'rmdir'];

/** What one round of the set left: its run-bench.sh output directory and the server's peak RSS. */
interface Round {
  readonly dir: string;
  readonly peakRssMiB: number | undefined;
}

/** The values of `key` in the summary lines of `files` (those that have one). */
function values(files: readonly string[], mode: string, key: string): number[] {
  return files.flatMap((file) => {
    const value = summaryLine(file, mode)?.get(key);
    return value === undefined ? [] : [Number(value)];
  });
}

/** The figures of the rounds of one server (see the header for how rounds combine). */
function figures(rounds: readonly Round[]): Figures {
  const rows = new Map<string, number>();
  const dirs = rounds.map((round) => round.dir);
  for (const [mode, key, label] of [
    ['seqwrite', 'mib_s', 'seqwrite MiB/s (1 MiB, qd 4)'],
    ['seqread', 'mib_s', 'seqread MiB/s (1 MiB, qd 4)'],
    ['randread', 'iops', 'randread IOPS (4 KiB, qd 16)'],
    ['randwrite', 'iops', 'randwrite IOPS (4 KiB, qd 16)'],
  ] as const) {
    const seen = values(dirs.map((dir) => path.join(dir, `data-${mode}.txt`)), mode, key);
    if (seen.length > 0) rows.set(label, median(seen));
  }
  const pauses = values(dirs.map((dir) => path.join(dir, 'probe.txt')), 'probe', 'max_pause_ms');
  if (pauses.length > 0) rows.set(PAUSE_ROW, Math.max(...pauses));
  const metaRuns = dirs.flatMap((dir) => readdirSync(dir).filter((f) => /^meta-q16-r\d+\.txt$/.test(f)).map((f) => path.join(dir, f)));
  for (const phase of META_PHASES) {
    const seen = values(metaRuns, 'meta', `${phase}_ops_s`);
    if (seen.length > 0) rows.set(`meta ${phase} ops/s (qd 16)`, median(seen));
  }
  const peaks = rounds.flatMap((round) => (round.peakRssMiB === undefined ? [] : [round.peakRssMiB]));
  return { rows, peakRssMiB: peaks.length > 0 ? Math.max(...peaks) : undefined, roundPeaksMiB: peaks };
}

async function runBench(label: string, url: string, serverPid: number, outDir: string, env: Record<string, string> = {}): Promise<Round> {
  let peak: number | undefined;
  const sampler = setInterval(() => (peak = peakRssMiB(serverPid) ?? peak), 500);
  await sh('bash', [path.join(SHARED_BENCH, 'run-bench.sh'), url, outDir], {
    LABEL: label,
    SERVER_PID: String(serverPid),
    DATA_SECS,
    META_REPEAT,
    META_QDS: '16',
    QUIET_WAIT: '30',
    // Paced as in the takeover issue, so the client does not slow the takeover it measures.
    PROBE_RATE: '2000',
    ...env,
  });
  clearInterval(sampler);
  return { dir: outDir, peakRssMiB: peakRssMiB(serverPid) ?? peak };
}

/** Tandem as it is deployed: a pair of nodes, measured on filer a, which is taken over mid-probe. */
async function benchTandem(round: number): Promise<Round> {
  const out = path.join(OUT, 'tandem', `round-${round}`);
  mkdirSync(out, { recursive: true });
  const pair = await startLoopbackPair({
    directory: path.join(TMPFS, `tandem-${round}`),
    out,
    filerAddresses: TANDEM_FILER_ADDRESSES,
    filer: 'a',
    nfsbenchBinary: await nfsbench(),
    nodeOptions: (process.env.BENCH_NODE_OPTIONS ?? '').split(' ').filter((option) => option !== ''),
  });
  try {
    const takeover = `${JSON.stringify(process.execPath)} ${JSON.stringify(TANDEM)} takeover a --config ${JSON.stringify(pair.configFile)} --json`;
    return await runBench('tandem', pair.url, pair.nodes[0]!.pid!, out, { PROBE_CMD: takeover, PROBE_AT: String(PROBE_AT_SECS) });
  } finally {
    await pair.stop();
    rmSync(path.join(TMPFS, `tandem-${round}`), { recursive: true, force: true });
  }
}

async function benchGanesha(round: number): Promise<Round | undefined> {
  if (process.env.SKIP_GANESHA === '1' || !existsSync('/usr/bin/ganesha.nfsd')) return undefined;
  const runDir = path.join(TMPFS, `ganesha-${round}`);
  const exportDir = path.join(TMPFS, `ganesha-export-${round}`);
  mkdirSync(exportDir, { recursive: true });
  const env = { NFS_PORT: String(GANESHA_PORT), MNT_PORT: String(GANESHA_PORT + 1), EXPORT_DIR: exportDir };
  // start.sh can misjudge a slow start on a busy machine ("exited during startup" while the
  // daemon runs on): whatever a failed start left running is stopped, and the start is tried again.
  let started = false;
  for (let attempt = 1; attempt <= GANESHA_START_ATTEMPTS && !started; attempt++) {
    started = (await sh('bash', [path.join(SHARED_BENCH, 'ganesha', 'start.sh'), runDir], env)) === 0;
    if (!started) {
      console.error(`bench: Ganesha did not start (attempt ${attempt} of ${GANESHA_START_ATTEMPTS}); its log is in ${runDir}`);
      await sh('bash', [path.join(SHARED_BENCH, 'ganesha', 'stop.sh'), runDir]);
    }
  }
  if (!started) return undefined;
  try {
    const pid = Number(readFileSync(path.join(runDir, 'ganesha.pid'), 'utf8').trim());
    const url = `nfs://127.0.0.1/export?version=3&nfsport=${GANESHA_PORT}&mountport=${GANESHA_PORT + 1}`;
    return await runBench('ganesha', url, pid, path.join(OUT, 'ganesha', `round-${round}`));
  } finally {
    await sh('bash', [path.join(SHARED_BENCH, 'ganesha', 'stop.sh'), runDir]);
    rmSync(exportDir, { recursive: true, force: true });
  }
}

/** Tandem ÷ Ganesha per throughput row (higher is better for Tandem). */
function ratios(tandem: Figures, ganesha: Figures | undefined): Map<string, number> {
  const result = new Map<string, number>();
  for (const [row, value] of tandem.rows) {
    const peer = ganesha?.rows.get(row);
    if (row !== PAUSE_ROW && peer !== undefined && peer > 0) result.set(row, value / peer);
  }
  return result;
}

function table(tandem: Figures, ganesha: Figures | undefined): string {
  const format = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
  const byRow = ratios(tandem, ganesha);
  const lines = ['| row | Tandem | Ganesha | Tandem / Ganesha |', '| --- | ---: | ---: | ---: |'];
  for (const [row, value] of tandem.rows) {
    const ratio = byRow.get(row);
    lines.push(`| ${row} | ${format(value)} | ${format(ganesha?.rows.get(row))} | ${ratio === undefined ? '-' : `${ratio.toFixed(2)}x`} |`);
  }
  const peerRss = ganesha?.peakRssMiB;
  lines.push(`| peak RSS MiB | ${format(tandem.peakRssMiB)} | ${format(peerRss)} | ${tandem.peakRssMiB && peerRss ? (tandem.peakRssMiB / peerRss).toFixed(2) + 'x' : '-'} |`);
  return lines.join('\n');
}

/** The issue's targets, each with what this run saw. */
function verdicts(tandem: Figures, ganesha: Figures | undefined): string[] {
  const byRow = [...ratios(tandem, ganesha)];
  const behind = byRow.filter(([, ratio]) => ratio < 1);
  const pause = tandem.rows.get(PAUSE_ROW);
  const rss = tandem.peakRssMiB;
  const mark = (ok: boolean) => (ok ? 'met' : 'NOT met');
  return [
    `- every row at least 1.0x Ganesha: ${byRow.length === 0 ? 'not measured' : `${mark(behind.length === 0)} (${byRow.length - behind.length} of ${byRow.length}${behind.length > 0 ? `; behind: ${behind.map(([row, ratio]) => `${row.split(' ').slice(0, 2).join(' ')} ${ratio.toFixed(2)}x`).join(', ')}` : ''})`}`,
    `- Tandem peak RSS under 200 MiB: ${rss === undefined ? 'not measured' : `${mark(rss < 200)} (${rss.toFixed(0)} MiB; by round: ${tandem.roundPeaksMiB.map((peak) => peak.toFixed(0)).join(', ')})`}`,
    `- planned-takeover pause at most ${TAKEOVER_PAUSE_TARGET_MS} ms: ${pause === undefined ? 'not measured' : `${mark(pause <= TAKEOVER_PAUSE_TARGET_MS)} (${pause.toFixed(1)} ms)`}`,
  ];
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  try {
    const tandemRounds: Round[] = [];
    const ganeshaRounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      console.log(`\nbench: round ${round} of ${ROUNDS}`);
      tandemRounds.push(await benchTandem(round));
      const ganeshaRound = await benchGanesha(round);
      if (ganeshaRound !== undefined) ganeshaRounds.push(ganeshaRound);
    }
    const tandem = figures(tandemRounds);
    const ganesha = ganeshaRounds.length === 0 ? undefined : figures(ganeshaRounds);
    console.log(`\n## Tandem beside NFS-Ganesha (tmpfs, loopback, ${ROUNDS} rounds, medians; raw output in ${OUT})\n`);
    console.log(table(tandem, ganesha));
    console.log(`\n${verdicts(tandem, ganesha).join('\n')}`);
    if (ganesha === undefined) console.log('\n(NFS-Ganesha not measured: install nfs-ganesha nfs-ganesha-vfs, or SKIP_GANESHA was set)');
  } finally {
    rmSync(TMPFS, { recursive: true, force: true });
  }
}

await main();
