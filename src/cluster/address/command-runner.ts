// Runs the system tools an address backend drives (ip, arping, ndisc6) as child processes,
// without a shell. Layer: cluster/address. A tool that runs past its deadline is killed and
// reported as such, so a stuck tool never stalls a takeover; tests swap in a scripted runner.

import { spawn } from 'node:child_process';

export interface CommandResult {
  /** The exit code; null when the command was killed (by its deadline or a signal). */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the deadline ended it. */
  readonly timedOut: boolean;
  /** True when the listening window ended it (see RunOptions.window). */
  readonly windowEnded: boolean;
}

export interface RunOptions {
  /** The command is killed past this, and the result says timedOut. */
  readonly timeoutMs: number;
  /**
   * For a tool that listens for answers: once its output matches `after` (it says it started
   * asking), it is given `ms` more, then killed, and the result says windowEnded. The window is
   * timed from the tool's own word, so a slow start does not eat it.
   */
  readonly window?: { readonly after: RegExp; readonly ms: number };
}

export type CommandRunner = (command: string, args: readonly string[], options: RunOptions) => Promise<CommandResult>;

/** Output kept per stream: enough for an error message, bounded against a chatty tool. */
const OUTPUT_CHARS_MAX = 64 * 1024;

/** The runner of real processes. A tool that cannot be started resolves with code 127. */
export const runCommand: CommandRunner = (command, args, { timeoutMs, window }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let windowEnded = false;
    let windowTimer: NodeJS.Timeout | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout = (stdout + chunk.toString()).slice(0, OUTPUT_CHARS_MAX);
      if (window === undefined || windowTimer !== undefined || !window.after.test(stdout)) return;
      windowTimer = setTimeout(() => {
        windowEnded = true;
        child.kill('SIGKILL');
      }, window.ms);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(0, OUTPUT_CHARS_MAX)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const settle = (result: CommandResult) => {
      clearTimeout(timer);
      clearTimeout(windowTimer);
      resolve(result);
    };
    child.once('error', (error: NodeJS.ErrnoException) => {
      settle({ code: 127, stdout, stderr: `${command}: ${error.code === 'ENOENT' ? 'not installed (not found on PATH)' : error.message}`, timedOut: false, windowEnded: false });
    });
    child.once('close', (code) => settle({ code, stdout, stderr, timedOut: timedOut && !windowEnded, windowEnded }));
  });

/** The first line of a tool's complaint, for an error message. */
export function firstLine(result: CommandResult): string {
  const text = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
  if (result.timedOut) return `timed out${text === '' ? '' : ` (${text})`}`;
  return text === '' ? `exit code ${result.code}` : text;
}
