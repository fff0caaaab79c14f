// Real processes for integration and interop tests: run a command with a deadline, start a
// `tandem` process and wait for a line it prints (never a guessed sleep), stop it cleanly.

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this file runs from dist/test/support). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const TANDEM_MAIN = path.join(REPO_ROOT, 'dist', 'src', 'cli', 'main.js');

export interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion; kills it and rejects after `timeoutMs`. */
export function run(command: string, args: readonly string[], options: { timeoutMs?: number; input?: Buffer } = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')}: no exit within ${timeoutMs} ms\n${Buffer.concat(stderr).toString()}`));
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
    child.stdin.end(options.input);
  });
}

/** Runs a command and rejects unless it exits 0. */
export async function runOk(command: string, args: readonly string[], options: { timeoutMs?: number; input?: Buffer } = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code ?? result.signal}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
  return result;
}

export class TandemProcess {
  readonly child: ChildProcess;
  readonly urls: readonly string[];
  readonly port: number;
  readonly #stderr: string[];

  private constructor(child: ChildProcess, urls: string[], stderr: string[]) {
    this.child = child;
    this.urls = urls;
    this.port = Number(/nfsport=(\d+)/.exec(urls[0]!)![1]);
    this.#stderr = stderr;
  }

  /** Starts `tandem serve` and resolves once it has printed one URL per volume. */
  static async serve(args: readonly string[], exportCount: number, deadlineMs = 20_000): Promise<TandemProcess> {
    const child = spawn(process.execPath, [TANDEM_MAIN, 'serve', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const stderr: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk.toString()));
    const urls = await new Promise<string[]>((resolve, reject) => {
      const found: string[] = [];
      let buffered = '';
      const timer = setTimeout(() => fail(new Error(`tandem serve printed no URL within ${deadlineMs} ms`)), deadlineMs);
      const fail = (error: Error) => {
        clearTimeout(timer);
        child.kill('SIGKILL');
        reject(new Error(`${error.message}\nstderr: ${stderr.join('')}`));
      };
      child.on('exit', (code) => fail(new Error(`tandem serve exited ${code} before it was ready`)));
      child.stdout.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        const lines = buffered.split('\n');
        buffered = lines.pop()!;
        for (const line of lines) if (line.startsWith('nfs://')) found.push(line.trim());
        if (found.length >= exportCount) {
          clearTimeout(timer);
          child.removeAllListeners('exit');
          resolve(found);
        }
      });
    });
    return new TandemProcess(child, urls, stderr);
  }

  get stderr(): string {
    return this.#stderr.join('');
  }

  /** Sends `signal` and waits (up to the deadline) for the process to exit; resolves its code. */
  stop(signal: NodeJS.Signals = 'SIGTERM', deadlineMs = 20_000): Promise<number | null> {
    if (this.child.exitCode !== null) return Promise.resolve(this.child.exitCode);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.child.kill('SIGKILL');
        reject(new Error(`tandem did not exit within ${deadlineMs} ms of ${signal}`));
      }, deadlineMs);
      this.child.once('exit', (code) => {
        clearTimeout(timer);
        resolve(code);
      });
      this.child.kill(signal);
    });
  }
}

/** Starts `tandem volume create` and waits for it. */
export async function createVolumeWithCli(directory: string, name?: string): Promise<void> {
  await runOk(process.execPath, [TANDEM_MAIN, 'volume', 'create', directory, ...(name === undefined ? [] : ['--name', name])]);
}
