// A loopback pair for the benchmarks: initialises a cluster in a directory of the caller's (its
// volumes and mailbox live there, so a directory on tmpfs measures the servers and not a disk),
// on two filer addresses of 127.0.0.0/8 and free ports, runs both nodes as `tandem node`
// processes with their logs in the out directory, and waits until both filers are served and
// one can be mounted. Shared by `npm run bench` and `npm run bench:takeover`.

import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, copyFileSync, openSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_OPTIONS } from '../src/platform/server-heap.js';
import { settledAtHome, type StatusReport } from '../src/admin/cluster-service.js';
import { initTestCluster } from '../test/support/cluster-processes.js';
import { run as runProcess, type RunResult } from '../test/support/processes.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TANDEM = path.join(REPO, 'dist', 'src', 'cli', 'main.js');
const START_DEADLINE_MS = 30_000;
/** A CLI command's limit: the operation deadline (10 s by default) and margin. */
const COMMAND_DEADLINE_MS = 30_000;
/** How long a node may take to stop before it is killed. */
const STOP_DEADLINE_MS = 20_000;

/** A step of a benchmark that failed: reported, not thrown past main. */
export class BenchFailure extends Error {}

export function run(command: string, args: readonly string[], timeoutMs: number): Promise<RunResult> {
  return runProcess(command, args, { timeoutMs }).catch((error: unknown) => {
    throw new BenchFailure(error instanceof Error ? error.message : String(error));
  });
}

export const tandem = (args: readonly string[], timeoutMs = COMMAND_DEADLINE_MS) => run(process.execPath, [TANDEM, ...args], timeoutMs);

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`, or 'timeout' after `ms`; the timer does not outlive the race. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals, deadlineMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, deadlineMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}


export async function status(configFile: string, node: string): Promise<StatusReport | undefined> {
  const result = await tandem(['status', '--config', configFile, '--node', node, '--json'], 10_000);
  if (result.code !== 0) return undefined;
  try {
    return JSON.parse(result.stdout) as StatusReport;
  } catch {
    return undefined;
  }
}

/** Each node, asked itself, serves its own filer, sees its partner up and the mailbox agreeing. */
function ready(report: StatusReport | undefined, node: string): boolean {
  if (report === undefined || report.node !== node || report.operation !== null) return false;
  return settledAtHome(report);
}

/** Waits until both filers are served; returns `filer`'s first URL. */
async function waitServed(configFile: string, nodes: readonly ChildProcess[], nfsbenchBinary: string, filer: string, logs: string): Promise<string> {
  const deadline = Date.now() + START_DEADLINE_MS;
  for (;;) {
    const exited = nodes.find((child) => child.exitCode !== null || child.signalCode !== null);
    if (exited !== undefined) throw new BenchFailure(`a node exited (${exited.exitCode ?? exited.signalCode}) before both filers were served; see its log in ${logs}`);
    const [a, b] = await Promise.all([status(configFile, 'a'), status(configFile, 'b')]);
    if (ready(a, 'a') && ready(b, 'b')) {
      const url = a!.filers.find((report) => report.name === filer)?.urls[0];
      if (url === undefined) throw new BenchFailure(`status names no URL for filer ${filer}`);
      // And a client can mount it: one LOOKUP of a missing name.
      const check = await run(nfsbenchBinary, ['-x', url, 'no-such-name'], 15_000);
      if (check.code === 0) return url;
    }
    if (Date.now() > deadline) throw new BenchFailure(`the filers were not both served within ${START_DEADLINE_MS} ms; see the node logs in ${logs}`);
    await sleep(200);
  }
}

export interface LoopbackPair {
  readonly configFile: string;
  /** The first URL of the filer asked for. */
  readonly url: string;
  readonly nodes: readonly ChildProcess[];
  /** Stops both nodes (SIGTERM, then SIGKILL past the deadline) and closes their logs. */
  stop(): Promise<void>;
}

/**
 * Starts the pair in `directory` on `filerAddresses`, logs and tandem.yaml in `out`; resolves
 * once `filer` can be mounted at the returned URL. A node that fails stops the other.
 */
export async function startLoopbackPair(options: {
  readonly directory: string;
  readonly out: string;
  readonly filerAddresses: readonly [string, string];
  readonly filer: string;
  readonly nfsbenchBinary: string;
  /** Node.js options for the nodes' processes (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  readonly nodeOptions?: readonly string[];
}): Promise<LoopbackPair> {
  const { configFile } = await initTestCluster(options.directory, options.filerAddresses);
  copyFileSync(configFile, path.join(options.out, 'tandem.yaml'));
  const logFds: number[] = [];
  const nodes: ChildProcess[] = [];
  for (const name of ['a', 'b']) {
    const fd = openSync(path.join(options.out, `node-${name}.log`), 'w');
    logFds.push(fd);
    nodes.push(spawn(process.execPath, [...SERVER_NODE_OPTIONS, ...(options.nodeOptions ?? []), TANDEM, 'node', '--config', configFile, '--node', name], { stdio: ['ignore', fd, fd] }));
  }
  const stop = async () => {
    await Promise.all(nodes.map((child) => stopChild(child, 'SIGTERM', STOP_DEADLINE_MS)));
    for (const fd of logFds.splice(0)) closeSync(fd);
  };
  try {
    const url = await waitServed(configFile, nodes, options.nfsbenchBinary, options.filer, options.out);
    return { configFile, url, nodes, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
