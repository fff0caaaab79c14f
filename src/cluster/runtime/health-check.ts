// The node's health check (layer: cluster/runtime): a configured command run every intervalMs;
// `failures` failures in a row (a non-zero exit, a signal, or running past timeoutMs) make the
// node unhealthy, and the core then asks the partner to take over what it serves (negotiated
// takeover, US 6,920,580); the first success after that makes it healthy again. Only changes
// are reported, so a failing check does not flood the core. The command sees the node's name in
// TANDEM_NODE (one configuration serves both nodes).

import { spawn } from 'node:child_process';
import type { Logger } from '../../platform/logger.js';
import type { HealthCheckConfig } from '../config.js';

/** Output of the command kept for the reason shown in status and events. */
const OUTPUT_CHARS_KEPT = 200;

export class HealthCheck {
  readonly #config: HealthCheckConfig;
  readonly #node: string;
  readonly #log: Logger;
  readonly #onChange: (healthy: boolean, reason: string) => void;
  #failures = 0;
  #healthy = true;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(config: HealthCheckConfig, node: string, log: Logger, onChange: (healthy: boolean, reason: string) => void) {
    this.#config = config;
    this.#node = node;
    this.#log = log.child({ health: config.command });
    this.#onChange = onChange;
  }

  start(): void {
    this.#schedule();
  }

  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.#runOnce().then(() => this.#schedule()), this.#config.intervalMs);
  }

  async #runOnce(): Promise<void> {
    const failure = await runCheck(this.#config.command, this.#config.timeoutMs, { ...process.env, TANDEM_NODE: this.#node });
    if (this.#stopped) return;
    if (failure === undefined) {
      this.#failures = 0;
      if (!this.#healthy) {
        this.#healthy = true;
        this.#log.info('health check passes again');
        this.#onChange(true, 'health check passes');
      }
      return;
    }
    this.#failures++;
    this.#log.warn({ failure, failures: this.#failures }, 'health check failed');
    if (this.#healthy && this.#failures >= this.#config.failures) {
      this.#healthy = false;
      this.#onChange(false, `health check failed ${this.#failures} times in a row: ${failure}`);
    }
  }
}

/** Runs `command` with sh; resolves undefined on exit status 0, or why it failed. */
export function runCheck(command: string, timeoutMs: number, env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs, killSignal: 'SIGKILL', env });
    let output = '';
    const keep = (chunk: Buffer) => {
      if (output.length < OUTPUT_CHARS_KEPT) output += chunk.toString('utf8');
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (error) => resolve(`cannot run it: ${error.message}`));
    child.once('close', (code, signal) => {
      const said = output.trim().slice(0, OUTPUT_CHARS_KEPT);
      if (code === 0) resolve(undefined);
      else if (signal !== null) resolve(`killed by ${signal}${signal === 'SIGKILL' ? ` (timeout ${timeoutMs} ms?)` : ''}${said ? `: ${said}` : ''}`);
      else resolve(`exit status ${code}${said ? `: ${said}` : ''}`);
    });
  });
}
