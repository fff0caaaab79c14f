// `npm run bench`: the shared nfsbench set (../shared/bench/run-bench.sh) against Tandem and,
// when NFS-Ganesha is installed, against Ganesha, back to back in one run on the same kind of
// backing directory (tmpfs under /dev/shm, so the server and not the disk is measured). Prints
// both servers' figures side by side with the ratio per row, and each server's peak resident
// memory. A benchmark, not a test: it asserts nothing and reports what it saw.
//
// env: BENCH_OUT (default bench/out/<timestamp>), BENCH_DATA_SECS (15), BENCH_META_REPEAT (3),
//      BENCH_PORT_TANDEM (32049), BENCH_PORT_GANESHA (32149; MOUNT on +1), SKIP_GANESHA=1.

import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './stats.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const SHARED_BENCH = path.resolve(REPO, '..', 'shared', 'bench');
const TANDEM = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const STAMP = new Date().toISOString().replace(/[:.]/g, '-');
const OUT = process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'out', STAMP);
const TMPFS = path.join('/dev/shm', `tandem-bench-${process.pid}`);
const DATA_SECS = process.env.BENCH_DATA_SECS ?? '15';
const META_REPEAT = process.env.BENCH_META_REPEAT ?? '3';
const TANDEM_PORT = Number(process.env.BENCH_PORT_TANDEM ?? 32049);
const GANESHA_PORT = Number(process.env.BENCH_PORT_GANESHA ?? 32149);

interface Figures {
  readonly rows: Map<string, number>;
  readonly peakRssMiB: number | undefined;
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


const META_PHASES = ['create', 'lookup', 'getattr', 'setattr', 'readdirp', 'remove', 'mkdir', 'rmdir'];

/** The figures of one run-bench.sh output directory. */
function figures(dir: string, peak: number | undefined): Figures {
  const rows = new Map<string, number>();
  for (const [mode, key, label] of [
    ['seqwrite', 'mib_s', 'seqwrite MiB/s (1 MiB, qd 4)'],
    ['seqread', 'mib_s', 'seqread MiB/s (1 MiB, qd 4)'],
    ['randread', 'iops', 'randread IOPS (4 KiB, qd 16)'],
    ['randwrite', 'iops', 'randwrite IOPS (4 KiB, qd 16)'],
  ] as const) {
    const value = summaryLine(path.join(dir, `data-${mode}.txt`), mode)?.get(key);
    if (value !== undefined) rows.set(label, Number(value));
  }
  const metaRuns = readdirSync(dir).filter((f) => /^meta-q16-r\d+\.txt$/.test(f));
  for (const phase of META_PHASES) {
    const values = metaRuns
      .map((f) => summaryLine(path.join(dir, f), 'meta')?.get(`${phase}_ops_s`))
      .filter((v): v is string => v !== undefined)
      .map(Number);
    if (values.length > 0) rows.set(`meta ${phase} ops/s (qd 16)`, median(values));
  }
  return { rows, peakRssMiB: peak };
}

async function runBench(label: string, url: string, serverPid: number, outDir: string): Promise<Figures> {
  let peak: number | undefined;
  const sampler = setInterval(() => (peak = peakRssMiB(serverPid) ?? peak), 500);
  await sh('bash', [path.join(SHARED_BENCH, 'run-bench.sh'), url, outDir], {
    LABEL: label,
    SERVER_PID: String(serverPid),
    DATA_SECS,
    META_REPEAT,
    META_QDS: '16',
    QUIET_WAIT: '30',
  });
  clearInterval(sampler);
  peak = peakRssMiB(serverPid) ?? peak;
  return figures(outDir, peak);
}

async function benchTandem(): Promise<Figures> {
  const volume = path.join(TMPFS, 'tandem', 'export');
  mkdirSync(path.dirname(volume), { recursive: true });
  await sh(process.execPath, [TANDEM, 'volume', 'create', volume]);
  const server = spawn(
    process.execPath,
    [TANDEM, 'serve', '--volume', volume, '--listen', `127.0.0.1:${TANDEM_PORT}`, '--clients', '127.0.0.1(rw,no_root_squash)', '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    server.on('exit', (code) => reject(new Error(`tandem serve exited ${code}`)));
    server.stdout.on('data', (chunk: Buffer) => {
      const line = chunk.toString().split('\n').find((l) => l.startsWith('nfs://'));
      if (line !== undefined) resolve(line.trim());
    });
  });
  server.removeAllListeners('exit');
  try {
    return await runBench('tandem', url, server.pid!, path.join(OUT, 'tandem'));
  } finally {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
}

async function benchGanesha(): Promise<Figures | undefined> {
  if (process.env.SKIP_GANESHA === '1' || !existsSync('/usr/bin/ganesha.nfsd')) return undefined;
  const runDir = path.join(TMPFS, 'ganesha');
  const exportDir = path.join(TMPFS, 'ganesha-export');
  mkdirSync(exportDir, { recursive: true });
  const env = { NFS_PORT: String(GANESHA_PORT), MNT_PORT: String(GANESHA_PORT + 1), EXPORT_DIR: exportDir };
  if ((await sh('bash', [path.join(SHARED_BENCH, 'ganesha', 'start.sh'), runDir], env)) !== 0) {
    console.error('bench: Ganesha did not start; see its log in', runDir);
    return undefined;
  }
  try {
    const pid = Number(readFileSync(path.join(runDir, 'ganesha.pid'), 'utf8').trim());
    const url = `nfs://127.0.0.1/export?version=3&nfsport=${GANESHA_PORT}&mountport=${GANESHA_PORT + 1}`;
    return await runBench('ganesha', url, pid, path.join(OUT, 'ganesha'));
  } finally {
    await sh('bash', [path.join(SHARED_BENCH, 'ganesha', 'stop.sh'), runDir]);
  }
}

function table(tandem: Figures, ganesha: Figures | undefined): string {
  const format = (v: number | undefined) => (v === undefined ? '-' : Math.round(v).toLocaleString('en-US'));
  const lines = ['| row | Tandem | Ganesha | Tandem / Ganesha |', '| --- | ---: | ---: | ---: |'];
  for (const [row, value] of tandem.rows) {
    const peer = ganesha?.rows.get(row);
    lines.push(`| ${row} | ${format(value)} | ${format(peer)} | ${peer ? (value / peer).toFixed(2) + 'x' : '-'} |`);
  }
  const peerRss = ganesha?.peakRssMiB;
  lines.push(`| peak RSS MiB | ${format(tandem.peakRssMiB)} | ${format(peerRss)} | ${tandem.peakRssMiB && peerRss ? (tandem.peakRssMiB / peerRss).toFixed(2) + 'x' : '-'} |`);
  return lines.join('\n');
}

async function main(): Promise<void> {
  mkdirSync(OUT, { recursive: true });
  try {
    const tandem = await benchTandem();
    const ganesha = await benchGanesha();
    console.log(`\n## Tandem beside NFS-Ganesha (tmpfs, loopback, one run; raw output in ${OUT})\n`);
    console.log(table(tandem, ganesha));
    if (ganesha === undefined) console.log('\n(NFS-Ganesha not measured: install nfs-ganesha nfs-ganesha-vfs, or SKIP_GANESHA was set)');
  } finally {
    rmSync(TMPFS, { recursive: true, force: true });
  }
}

await main();
