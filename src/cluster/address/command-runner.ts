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
}

export type CommandRunner = (command: string, args: readonly string[], options: { timeoutMs: number }) => Promise<CommandResult>;

/** Output kept per stream: enough for an error message, bounded against a chatty tool. */
const OUTPUT_CHARS_MAX = 64 * 1024;

/** The runner of real processes. A tool that cannot be started resolves with code 127. */
export const runCommand: CommandRunner = (command, args, { timeoutMs }) =>
  new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk: Buffer) => (stdout = (stdout + chunk.toString()).slice(0, OUTPUT_CHARS_MAX)));
    child.stderr.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(0, OUTPUT_CHARS_MAX)));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (error: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${command}: ${error.code === 'ENOENT' ? 'not installed (not found on PATH)' : error.message}`, timedOut: false });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });

/** The first line of a tool's complaint, for an error message. */
export function firstLine(result: CommandResult): string {
  const text = (result.stderr.trim() || result.stdout.trim()).split('\n')[0] ?? '';
  if (result.timedOut) return `timed out${text === '' ? '' : ` (${text})`}`;
  return text === '' ? `exit code ${result.code}` : text;
}
