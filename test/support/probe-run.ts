// The shared probe (`nfsbench probe`, ../shared/bench/) run as a child process and watched as it
// runs: the tests and benchmarks wait for a given second of its report, stop it with SIGINT, and
// read its figures (max_pause_ms, errors, stale handles, lost acknowledged writes).

import { spawn, type ChildProcess } from 'node:child_process';
import { summary } from './nfsbench.js';

/** How long the probe may take past its load: pending work and the final check. */
export const PROBE_EXIT_DEADLINE_MS = 90_000;
const PROBE_SECOND_DEADLINE_MS = 30_000;

/** The probe's figures (its machine-readable last line), as numbers where they are. */
export interface ProbeFigures {
  readonly code: number | null;
  readonly stdout: string;
  readonly values: ReadonlyMap<string, string>;
  readonly maxPauseMs: number;
  readonly errors: number;
  readonly staleHandles: number;
  /** NaN when the probe could not verify (`unverified`). */
  readonly lostAckedWrites: number;
  readonly verified: boolean;
  /** The "errors by status:" line of its report (e.g. "NFS3ERR_EXIST=1"), or "none". */
  readonly errorsByStatus: string;
  /** "errors on retransmitted requests N" from its report. */
  readonly retransmitErrors: number;
}

/**
 * `nfsbench probe` against `url` for at most `maxSecs` seconds; stop() ends the load (SIGINT:
 * the probe finishes what is pending and runs its final check), so a test ends it when the
 * events it waits for have happened, not after a guessed time.
 */
export class ProbeRun {
  readonly child: ChildProcess;
  readonly #stdout: string[] = [];
  readonly #stderr: string[] = [];
  readonly #exit: Promise<number | null>;
  #buffered = '';
  #second = 0;
  #waiters: { second: number; resolve(): void }[] = [];

  /** `options.within`: a command prefix that runs the probe elsewhere, as `ip netns exec NS` (which execs it). */
  constructor(binary: string, url: string, options: { rate?: number; maxSecs?: number; extra?: readonly string[]; within?: readonly string[] } = {}) {
    const args = ['probe', '-t', String(options.maxSecs ?? 120), '-r', String(options.rate ?? 1000), '-M', '4m', ...(options.extra ?? []), url];
    const [command, ...prefix] = [...(options.within ?? []), binary];
    this.child = spawn(command!, [...prefix, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stderr!.on('data', (chunk: Buffer) => this.#stderr.push(chunk.toString()));
    this.child.stdout!.on('data', (chunk: Buffer) => this.#onStdout(chunk.toString()));
    this.#exit = new Promise((resolve, reject) => {
      this.child.once('error', reject);
      this.child.once('close', (code) => resolve(code));
    });
  }

  /** The last second the probe reported. */
  get second(): number {
    return this.#second;
  }

  get output(): string {
    return `${this.#stdout.join('')}${this.#stderr.length > 0 ? `\nstderr: ${this.#stderr.join('')}` : ''}`;
  }

  /** Resolves once the probe has printed the line of second `second`. */
  async untilSecond(second: number, deadlineMs = PROBE_SECOND_DEADLINE_MS): Promise<void> {
    if (this.#second >= second) return;
    let timer: NodeJS.Timeout | undefined;
    const reached = new Promise<void>((resolve) => this.#waiters.push({ second, resolve }));
    const failed = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the probe printed no line for second ${second} within ${deadlineMs} ms:\n${this.output}`)), deadlineMs);
    });
    const ended = this.#exit.then(() => {
      throw new Error(`the probe ended before second ${second}:\n${this.output}`);
    });
    try {
      await Promise.race([reached, failed, ended]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Ends the load now (SIGINT); see ended(). */
  stop(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGINT');
  }

  /** Waits for the probe to end and reads its figures. */
  async ended(deadlineMs = PROBE_EXIT_DEADLINE_MS): Promise<ProbeFigures> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the probe did not end within ${deadlineMs} ms:\n${this.output}`)), deadlineMs);
    });
    let code: number | null;
    try {
      code = await Promise.race([this.#exit, late]);
    } finally {
      clearTimeout(timer);
    }
    const stdout = this.#stdout.join('');
    const values = summary(stdout, 'probe');
    const number = (key: string) => Number(values.get(key) ?? NaN);
    return {
      code,
      stdout,
      values,
      maxPauseMs: number('max_pause_ms'),
      errors: number('errors'),
      staleHandles: number('stale_handles'),
      lostAckedWrites: number('lost_acked_writes'),
      verified: values.get('verified') === '1',
      errorsByStatus: /errors by status:\s*(.*)/.exec(stdout)?.[1]?.trim() ?? 'unknown',
      retransmitErrors: Number(/errors on retransmitted requests (\d+)/.exec(stdout)?.[1] ?? NaN),
    };
  }

  /** Stops the load and waits for the figures. */
  async finish(deadlineMs = PROBE_EXIT_DEADLINE_MS): Promise<ProbeFigures> {
    this.stop();
    return this.ended(deadlineMs);
  }

  /** Kills the probe if it still runs (a failed test's cleanup). */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.#exit.catch(() => undefined);
  }

  #onStdout(text: string): void {
    this.#stdout.push(text);
    this.#buffered += text;
    const lines = this.#buffered.split('\n');
    this.#buffered = lines.pop()!;
    for (const line of lines) {
      // A per-second line: "  sec  ops  ok  errors  max_lat_ms  max_pause_ms  reconn  retrans".
      const match = /^\s*(\d+)\s+\d+\s+\d+\s+\d+\s/.exec(line);
      if (match !== null) this.#second = Math.max(this.#second, Number(match[1]));
    }
    const due = this.#waiters.filter((waiter) => waiter.second <= this.#second);
    this.#waiters = this.#waiters.filter((waiter) => waiter.second > this.#second);
    for (const waiter of due) waiter.resolve();
  }
}
