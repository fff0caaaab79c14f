// `npm run bench:jitter`: how late a 100 ms heartbeat timer fires on a busy node, to choose the
// failure-detection defaults (docs/design/fencing.md, "Defaults, and why") so that a busy node is
// not declared dead. A benchmark, not a test: it asserts nothing and prints what it saw.
//
// The timer is scheduled as the interconnect schedules heartbeats (src/cluster/interconnect:
// a setTimeout re-armed from inside each firing), so a firing's lateness is its performance.now()
// minus (the time it was armed + 100 ms), and the silence a partner sees between two heartbeats
// is 100 ms plus the lateness. Node may fire up to ~1 ms early (it arms from the cached loop
// time), hence small negative figures.
//
// Conditions, BENCH_JITTER_SECS (default 30) each, after a 1 s warm-up under the same load:
//   1. idle machine, timer on the main event loop;
//   2. every core saturated by a separate busy `node -e` process, timer on the main loop;
//   3. same saturation, timer in a worker_threads Worker that posts each firing to the main
//      thread; also how late the main thread receives each report (what a heartbeat sent from
//      the main thread would see);
//   4. same saturation plus request-like load on the main thread: in every 100 ms slot one
//      synchronous burst of 20-50 ms at a random offset in the slot (seeded PRNG; a random phase
//      so the burst cannot lock step with the 100 ms timer under test), which also allocates ~5 MB of small objects (~50 MB/s, an eighth
//      of them kept for ~2 s so some reach the old generation and major GCs happen); timers on
//      the main loop and in a worker at once; the worker also renews a lease every 3rd firing
//      (~300 ms) with its own writeSync + fsyncSync in os.tmpdir();
//   5. same as 4, with perf_hooks.monitorEventLoopDelay (10 ms resolution) on the main loop; its
//      samples include the resolution, which is subtracted so the row reads as lateness.
//
// The busy processes exit by themselves after the whole run's time (or if this process goes
// away); they are also killed at the end, on error and on SIGINT/SIGTERM. No sockets.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statfsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { constants as perfConstants, monitorEventLoopDelay, performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

import { clockAnchorMs, type FromWorker, type WorkerJob } from './jitter-worker.js';

const INTERVAL_MS = 100;
const SECS = secondsFromEnv();
const DURATION_MS = SECS * 1000;
const WARMUP_MS = 1000;
const CONDITIONS = 5;
/** Hard stop for the whole run (and for the busy processes): every condition plus slack. */
const RUN_DEADLINE_MS = CONDITIONS * (DURATION_MS + WARMUP_MS + 5_000) + 60_000;

const BURST_EVERY_MS = 100;
const BURST_MIN_MS = 20;
const BURST_MAX_MS = 50;
/** Small objects per burst: ~5 MB at ~56 bytes each (4 fields + header, 64-bit, uncompressed pointers). */
const OBJECT_BYTES_ESTIMATE = 56;
const OBJECTS_PER_BURST = Math.round(5_000_000 / OBJECT_BYTES_ESTIMATE);
/** Keep one object in RETAIN_EVERY alive for RETAIN_BURSTS bursts (~2 s), so some survive scavenges. */
const RETAIN_EVERY = 8;
const RETAIN_BURSTS = 20;
const LEASE_EVERY_FIRINGS = 3;
const ELD_RESOLUTION_MS = 10;

function secondsFromEnv(): number {
  const raw = process.env['BENCH_JITTER_SECS'];
  if (raw === undefined || raw === '') return 30;
  const value = Number(raw);
  if (!(value > 0 && value <= 3600)) throw new RangeError(`BENCH_JITTER_SECS: expected seconds in (0, 3600], got ${JSON.stringify(raw)}`);
  return value;
}

// ---------------------------------------------------------------------------------------------
// Figures

interface Summary {
  readonly p50: number;
  readonly p99: number;
  readonly p999: number;
  readonly max: number;
  readonly count: number;
}

interface Row {
  readonly condition: string;
  readonly where: string;
  readonly summary: Summary;
  /** Which thread's stall this row measures, for the recommendation. */
  readonly thread: 'main' | 'worker' | 'lease-write';
}

const rows: Row[] = [];
const notes: string[] = [];

/** Nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1]!;
}

function summarise(values: readonly number[]): Summary {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    p999: percentile(sorted, 0.999),
    max: sorted.length === 0 ? Number.NaN : sorted[sorted.length - 1]!,
    count: sorted.length,
  };
}

function addRow(condition: string, where: string, thread: Row['thread'], summary: Summary): void {
  rows.push({ condition, where, thread, summary });
}

function ms(value: number): string {
  return Number.isNaN(value) ? 'n/a' : value.toFixed(1);
}

// ---------------------------------------------------------------------------------------------
// Timers under test

function sleep(delayMs: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, delayMs));
}

/** A heartbeat-style timer on the main loop for durationMs; the lateness of each firing. */
function mainLoopTimer(durationMs: number): Promise<number[]> {
  return new Promise((resolve) => {
    const lateness: number[] = [];
    const end = performance.now() + durationMs;
    let intended = 0;
    const arm = (): void => {
      intended = performance.now() + INTERVAL_MS;
      setTimeout(fire, INTERVAL_MS);
    };
    const fire = (): void => {
      const now = performance.now();
      lateness.push(now - intended);
      if (now >= end) resolve(lateness);
      else arm();
    };
    arm();
  });
}

interface WorkerFigures {
  /** Lateness of each firing, on the worker's loop. */
  readonly fired: number[];
  /** When the main thread received each report, minus the firing's intended time. */
  readonly received: number[];
  /** Duration of each lease write + fsync (if asked for). */
  readonly leaseWrites: number[];
}

const live = new Set<Worker>();

/** A heartbeat-style timer in a Worker for durationMs. */
function workerTimer(durationMs: number, leasePath: string | null): Promise<WorkerFigures> {
  return new Promise((resolve, reject) => {
    const job: WorkerJob = { intervalMs: INTERVAL_MS, durationMs, leasePath, leaseEvery: LEASE_EVERY_FIRINGS };
    const worker = new Worker(new URL('./jitter-worker.js', import.meta.url), { workerData: job });
    live.add(worker);
    const figures: WorkerFigures = { fired: [], received: [], leaseWrites: [] };
    const mainAnchor = clockAnchorMs();
    let offset: number | undefined; // worker performance.now() + offset = main performance.now()
    let done = false;
    worker.on('message', (message: FromWorker) => {
      const now = performance.now();
      switch (message.kind) {
        case 'anchor':
          offset = message.anchorMs - mainAnchor;
          break;
        case 'fire':
          figures.fired.push(message.actual - message.intended);
          if (offset !== undefined) figures.received.push(now - (message.intended + offset));
          break;
        case 'lease':
          figures.leaseWrites.push(message.ms);
          break;
        case 'done':
          done = true;
          break;
      }
    });
    worker.once('error', (error) => {
      live.delete(worker);
      reject(error);
    });
    worker.once('exit', (code) => {
      live.delete(worker);
      if (done) resolve(figures);
      else reject(new Error(`jitter worker exited (code ${code}) before finishing`));
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Load

const hogs = new Set<ChildProcess>();

/** One busy `node -e` loop per core; each exits by itself at the run deadline or if we vanish. */
async function startHogs(count: number): Promise<void> {
  const deadline = Date.now() + RUN_DEADLINE_MS;
  const code =
    `const d=${deadline},p=process.ppid;let i=0,x=0;` +
    'for(;;){x=(x*1103515245+12345)|0;if((++i&0xfffff)===0&&(Date.now()>d||process.ppid!==p))process.exit(0);}';
  for (let i = 0; i < count; i++) {
    const child = spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    hogs.add(child);
    child.once('exit', () => hogs.delete(child));
    child.once('error', (error) => {
      hogs.delete(child);
      process.stderr.write(`bench:jitter: busy process failed: ${error.message}\n`);
    });
  }
  await sleep(500); // let them start spinning
  const running = [...hogs].filter((child) => child.exitCode === null && child.pid !== undefined).length;
  if (running !== count) throw new Error(`bench:jitter: ${running} of ${count} busy processes running`);
}

function stopHogs(): void {
  for (const child of hogs) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  hogs.clear();
}

/** mulberry32: a small seeded PRNG, so every run draws the same burst lengths. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Req {
  id: number;
  offset: number;
  count: number;
  next: Req | null;
}

let sink = 0;

interface BurstStats {
  bursts: number;
  busyMs: number;
  objects: number;
}

/** Request-like load on the main thread until stop(): synchronous bursts that allocate. */
function startBursts(seed: number): { stop: () => BurstStats } {
  const random = prng(seed);
  const retained: (Req[] | undefined)[] = new Array<Req[] | undefined>(RETAIN_BURSTS);
  const stats: BurstStats = { bursts: 0, busyMs: 0, objects: 0 };
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let slot = performance.now();
  let lengthMs = 0;

  /** Arms the burst of the slot starting at `slot`: a random length, at a random offset in the slot. */
  const schedule = (): void => {
    lengthMs = BURST_MIN_MS + random() * (BURST_MAX_MS - BURST_MIN_MS);
    const startAt = slot + random() * (BURST_EVERY_MS - lengthMs);
    timer = setTimeout(burst, Math.max(0, startAt - performance.now()));
  };

  const burst = (): void => {
    if (stopped) return;
    const start = performance.now();
    const keep: Req[] = [];
    let previous: Req | null = null;
    for (let i = 0; i < OBJECTS_PER_BURST; i++) {
      const request: Req = { id: i, offset: i * 4096, count: 4096, next: previous };
      previous = (i & 15) === 0 ? null : request; // short chains, mostly garbage at once
      if (i % RETAIN_EVERY === 0) keep.push(request);
    }
    retained[stats.bursts % RETAIN_BURSTS] = keep;
    let x = 0;
    while (performance.now() - start < lengthMs) x = (x * 1103515245 + 12345) | 0;
    sink ^= x;
    stats.bursts++;
    stats.objects += OBJECTS_PER_BURST;
    stats.busyMs += performance.now() - start;
    slot += BURST_EVERY_MS;
    schedule();
  };
  schedule();

  return {
    stop: () => {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      retained.fill(undefined);
      return stats;
    },
  };
}

interface GcStats {
  minor: number;
  major: number;
  other: number;
  maxPauseMs: number;
  totalPauseMs: number;
}

function watchGc(): { stop: () => GcStats } {
  const stats: GcStats = { minor: 0, major: 0, other: 0, maxPauseMs: 0, totalPauseMs: 0 };
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as (PerformanceEntry & { detail?: { kind?: number } })[]) {
      const kind = entry.detail?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) stats.minor++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) stats.major++;
      else stats.other++;
      stats.maxPauseMs = Math.max(stats.maxPauseMs, entry.duration);
      stats.totalPauseMs += entry.duration;
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return {
    stop: () => {
      observer.disconnect();
      return stats;
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Conditions

function progress(text: string): void {
  process.stderr.write(`bench:jitter: ${text}\n`);
}

async function conditionMainOnly(label: string): Promise<void> {
  progress(`${label} (${SECS} s)`);
  await sleep(WARMUP_MS);
  addRow(label, 'main loop timer', 'main', summarise(await mainLoopTimer(DURATION_MS)));
}

async function conditionWorkerOnly(label: string): Promise<void> {
  progress(`${label} (${SECS} s)`);
  await sleep(WARMUP_MS);
  const figures = await workerTimer(DURATION_MS, null);
  addRow(label, 'worker timer', 'worker', summarise(figures.fired));
  addRow(label, 'main receives worker report', 'main', summarise(figures.received));
}

async function conditionBusyMain(label: string, seed: number, leaseDir: string, withEld: boolean): Promise<void> {
  progress(`${label} (${SECS} s)`);
  const bursts = startBursts(seed);
  await sleep(WARMUP_MS);
  const gc = watchGc();
  const eld = withEld ? monitorEventLoopDelay({ resolution: ELD_RESOLUTION_MS }) : undefined;
  eld?.enable();
  const started = performance.now();
  const [mainLate, figures] = await Promise.all([
    mainLoopTimer(DURATION_MS),
    workerTimer(DURATION_MS, path.join(leaseDir, 'lease.json')),
  ]);
  const elapsedS = (performance.now() - started) / 1000;
  eld?.disable();
  const burstStats = bursts.stop();
  const gcStats = gc.stop();
  addRow(label, 'main loop timer', 'main', summarise(mainLate));
  addRow(label, 'worker timer', 'worker', summarise(figures.fired));
  addRow(label, 'main receives worker report', 'main', summarise(figures.received));
  addRow(label, `worker lease write+fsync, every ${LEASE_EVERY_FIRINGS} firings (duration)`, 'lease-write', summarise(figures.leaseWrites));
  if (eld !== undefined) {
    const lateMs = (ns: number): number => ns / 1e6 - ELD_RESOLUTION_MS;
    addRow(label, `monitorEventLoopDelay (${ELD_RESOLUTION_MS} ms resolution, minus it)`, 'main', {
      p50: lateMs(eld.percentile(50)),
      p99: lateMs(eld.percentile(99)),
      p999: lateMs(eld.percentile(99.9)),
      max: lateMs(eld.max),
      count: eld.count,
    });
  }
  const totalS = elapsedS + WARMUP_MS / 1000; // bursts ran through the warm-up too
  notes.push(
    `${label}: main thread busy ${((burstStats.busyMs / 1000 / totalS) * 100).toFixed(0)}% in ${burstStats.bursts} bursts, ` +
      `~${((burstStats.objects * OBJECT_BYTES_ESTIMATE) / 1e6 / totalS).toFixed(0)} MB/s of small objects (estimated at ${OBJECT_BYTES_ESTIMATE} B each); ` +
      `main-thread GC during the measurement: ${gcStats.minor} minor, ${gcStats.major} major, ${gcStats.other} other, ` +
      `max pause ${gcStats.maxPauseMs.toFixed(1)} ms, total ${gcStats.totalPauseMs.toFixed(0)} ms.`,
  );
}

// ---------------------------------------------------------------------------------------------
// Machine and recommendation

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

const FS_TYPES: Record<number, string> = {
  0x01021994: 'tmpfs',
  0x794c7630: 'overlayfs',
  0xef53: 'ext4',
  0x58465342: 'xfs',
  0x9123683e: 'btrfs',
  0x6969: 'nfs',
};

function fsType(dir: string): string {
  try {
    const type = statfsSync(dir).type;
    return FS_TYPES[type] ?? `0x${type.toString(16)}`;
  } catch {
    return 'unknown';
  }
}

function machine(leaseDir: string, loadBefore: string): string {
  const cpus = os.cpus();
  const quota = readOptional('/sys/fs/cgroup/cpu.max');
  return (
    `Machine: nproc ${os.availableParallelism()} (${cpus[0]?.model.trim() ?? 'unknown cpu'}), ` +
    `Node ${process.version} (libuv ${process.versions.uv}, ${process.platform}/${process.arch}), ` +
    `cgroup cpu.max ${quota ?? 'n/a'}, load average before the run ${loadBefore}; ` +
    `${SECS} s per condition, ${INTERVAL_MS} ms timer; lease file on ${fsType(leaseDir)} (${os.tmpdir()}).`
  );
}

/** Round up to a multiple of `step`. */
function ceilTo(value: number, step: number): number {
  return Math.ceil(value / step) * step;
}

function worst(predicate: (row: Row) => boolean): number {
  let value = 0;
  for (const row of rows) if (predicate(row) && row.summary.max > value) value = row.summary.max;
  return value;
}

function recommendation(): string[] {
  const SAFETY = 3;
  const idle = (row: Row): boolean => row.condition.startsWith('1.');
  // Under load: conditions 2-5. Main: the main-loop timer, report reception and monitorEventLoopDelay.
  const mainStall = worst((row) => !idle(row) && row.thread === 'main');
  const workerStall = worst((row) => !idle(row) && row.thread === 'worker');
  const leaseWrite = worst((row) => row.thread === 'lease-write');
  const mainOnlyStall = worst((row) => row.thread === 'main' && (row.condition.startsWith('2.') || row.condition.startsWith('3.')));

  // Interconnect: the partner hears nothing for interval + sender lateness + receiver stall (its
  // watchdog is a timer on its own loop, and after a stall Node runs due timers before reading
  // the socket, so heartbeats waiting in the buffer do not count). Tolerated stall
  // (failoverMs - interval) >= SAFETY x (sender + receiver worst).
  const failoverMain = Math.max(3 * INTERVAL_MS, ceilTo(INTERVAL_MS + SAFETY * 2 * mainStall, 250));
  const failoverWorker = Math.max(3 * INTERVAL_MS, ceilTo(INTERVAL_MS + SAFETY * 2 * workerStall, 250));
  // Lease: renewals every leaseMs/3, each counts from when its write began, so the lease survives
  // if renewal n+1 completes within leaseMs of renewal n's start: leaseMs/3 + late + write <=
  // leaseMs. With SAFETY on (late + write): leaseMs >= 1.5 x SAFETY x (late + write).
  const leaseWorker = ceilTo(1.5 * SAFETY * (workerStall + leaseWrite), 250);
  const leaseMainLowerBound = ceilTo(1.5 * SAFETY * (mainStall + leaseWrite), 250);

  const DEFAULT_FAILOVER_MS = 1000;
  const DEFAULT_LEASE_MS = 1000;
  const failover = Math.max(DEFAULT_FAILOVER_MS, failoverWorker);
  const lease = Math.max(DEFAULT_LEASE_MS, leaseWorker);
  const mainHolds = failoverMain <= DEFAULT_FAILOVER_MS && leaseMainLowerBound <= DEFAULT_LEASE_MS;

  return [
    `Worst lateness under load (conditions 2-5): main thread ${ms(mainStall)} ms (${ms(mainOnlyStall)} ms with only other processes busy), ` +
      `worker ${ms(workerStall)} ms; worst lease write+fsync in the worker ${ms(leaseWrite)} ms. ` +
      `Safety factor ${SAFETY} on the stall each setting must ride out. Interconnect: failoverMs - interval >= ` +
      `${SAFETY} x (sender lateness + receiver stall), both nodes possibly busy at once: the receiver's watchdog is a timer on its own loop, ` +
      `and after a stall Node runs due timers before it reads the heartbeats waiting in the socket. Lease, renewed every leaseMs/3 and counted ` +
      `from the start of its write: leaseMs/3 + ${SAFETY} x (lateness + write) <= leaseMs, i.e. leaseMs >= ${1.5 * SAFETY} x (lateness + write). ` +
      `Minimum from these figures: heartbeats on the main loop failoverMs ${failoverMain}, in a worker ${failoverWorker}; ` +
      `lease renewed in a worker ${leaseWorker}, on the main loop at least ${leaseMainLowerBound} (more in practice: an async write there also queues ` +
      `behind NFS I/O in the libuv thread pool, which this bench does not load).`,
    `Recommendation: heartbeatIntervalMs ${INTERVAL_MS} (cheap; the interval is not what fails), failoverMs ${failover}, leaseMs ${lease} ` +
      `(renew every ${Math.round(lease / 3)} ms): the defaults ${failover === DEFAULT_FAILOVER_MS && lease === DEFAULT_LEASE_MS ? 'stand' : 'must grow'}, ` +
      `with margin for what ${SECS} s per condition on one machine cannot show (a major GC of a large heap, VM steal, swap, a slow mailbox disk). ` +
      `Run heartbeats (send, receive and the watchdog, on the worker's own socket) and lease renewals (the worker's own writeSync + fsyncSync, ` +
      `independent of the main loop and of the shared thread pool) in a worker thread: ` +
      `the worker's worst lateness is ${ms(workerStall)} ms against ${ms(mainStall)} ms on the main loop, and the main thread receives ` +
      `the worker's reports as late as its own loop runs, so the worker must do the I/O itself, not just keep the time. ` +
      `${mainHolds ? 'On the main loop the defaults would still hold on these figures, but with less margin and none against a longer request burst.' : 'On the main loop the defaults would not hold on these figures.'} ` +
      `The main thread should watch the worker (e.g. stop serving if the worker reports the lease lost or goes silent).`,
  ];
}

// ---------------------------------------------------------------------------------------------

let leaseDir: string | undefined;

function cleanup(): void {
  stopHogs();
  for (const worker of live) void worker.terminate();
  live.clear();
  if (leaseDir !== undefined) {
    rmSync(leaseDir, { recursive: true, force: true });
    leaseDir = undefined;
  }
}

async function main(): Promise<void> {
  const loadBefore = os.loadavg().map((value) => value.toFixed(2)).join(' ');
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tandem-jitter-'));
  leaseDir = dir;
  const cores = os.availableParallelism();
  progress(`${INTERVAL_MS} ms timer, ${SECS} s per condition, ${CONDITIONS} conditions (~${Math.ceil((CONDITIONS * (SECS + 1.5)) / 60)} min)`);

  await conditionMainOnly('1. idle');
  await startHogs(cores);
  await conditionMainOnly(`2. ${cores} busy processes`);
  await conditionWorkerOnly(`3. ${cores} busy processes`);
  await conditionBusyMain(`4. ${cores} busy processes + busy main`, 0x7a4de3, dir, false);
  await conditionBusyMain(`5. as 4 + monitorEventLoopDelay`, 0x7a4de3, dir, true);
  const machineLine = machine(dir, loadBefore);
  cleanup();

  console.log('| condition | where | p50 ms | p99 ms | p99.9 ms | max ms | firings |');
  console.log('|---|---|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const s = row.summary;
    console.log(`| ${row.condition} | ${row.where} | ${ms(s.p50)} | ${ms(s.p99)} | ${ms(s.p999)} | ${ms(s.max)} | ${s.count} |`);
  }
  console.log('');
  console.log(machineLine);
  console.log(
    'Lateness = firing time - (arm time + 100 ms), performance.now(); "main receives" = when the main thread handled the worker\'s report ' +
      '- the firing\'s intended time (worker clock mapped through the shared monotonic clock). Nearest-rank percentiles: with ~300 firings p99.9 is the max. ' +
      'monitorEventLoopDelay "firings" is its sample count.',
  );
  for (const note of notes) console.log(note);
  console.log('');
  for (const paragraph of recommendation()) {
    console.log(paragraph);
    console.log('');
  }
  if (sink === 0.5) console.log('');
}

const hardStop = setTimeout(() => {
  process.stderr.write('bench:jitter: run deadline passed, stopping\n');
  cleanup();
  process.exit(2);
}, RUN_DEADLINE_MS);
hardStop.unref();

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    cleanup();
    process.exit(130);
  });
}
process.once('exit', () => {
  stopHogs();
  if (leaseDir !== undefined) rmSync(leaseDir, { recursive: true, force: true });
});

main().then(
  () => clearTimeout(hardStop),
  (error: unknown) => {
    cleanup();
    process.stderr.write(`bench:jitter: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
    clearTimeout(hardStop);
  },
);
