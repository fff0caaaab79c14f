// Tests of the AddressGuard, the real one, made harmless: PATH holds only a temporary folder
// whose `ip` appends its arguments to a log instead of touching an interface, and whose `sh`
// runs /bin/sh and then logs that the guard exited, so the test can wait for that with a
// deadline. A crash is a real SIGKILL, sent to the process group of a child node that holds
// the addresses (this test process cannot kill itself). Nothing sleeps.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, watch } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { AddressGuard, type GuardedAddress } from './address-guard.js';

const DEADLINE_MS = 10_000;
const EXITED = /^guard exited/;

const FIRST: readonly GuardedAddress[] = [
  { address: '198.18.0.11', prefixLength: 24, interface: 'tandem-t0' },
  { address: '2001:db8::11', prefixLength: 64, interface: 'tandem-t0' },
];
const LAST: readonly GuardedAddress[] = [
  { address: '198.18.0.12', prefixLength: 24, interface: 'tandem-t0' },
  { address: '2001:db8::12', prefixLength: 64, interface: 'tandem-t1' },
];

/** Rejects when `promise` has not settled within the deadline. */
function withDeadline<T>(promise: Promise<T>, what: string, ms = DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`deadline of ${ms} ms passed waiting for ${what}`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}

interface FakeTools {
  /** The only folder on the guard's PATH. */
  readonly bin: string;
  /** Where the fake `ip` and `sh` write. */
  readonly log: string;
  /** The environment the guard must run in. */
  readonly env: NodeJS.ProcessEnv;
}

async function withFakeTools(work: (tools: FakeTools) => Promise<void>): Promise<void> {
  const folder = await mkdtemp(path.join(tmpdir(), 'tandem-guard-'));
  const bin = path.join(folder, 'bin');
  const log = path.join(folder, 'log');
  try {
    await mkdir(bin);
    await writeFile(path.join(bin, 'ip'), '#!/bin/sh\necho "ip $*" >> "$GUARD_LOG"\n');
    await writeFile(path.join(bin, 'sh'), '#!/bin/sh\n/bin/sh "$@"\necho "guard exited $?" >> "$GUARD_LOG"\n');
    await chmod(path.join(bin, 'ip'), 0o755);
    await chmod(path.join(bin, 'sh'), 0o755);
    await work({ bin, log, env: { PATH: bin, GUARD_LOG: log } });
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function logLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter((line) => line !== '');
  } catch {
    return [];
  }
}

/** The log's lines once one matches `pattern`; woken by file events, bounded by the deadline. */
async function waitForLog(file: string, pattern: RegExp): Promise<string[]> {
  const watcher = watch(path.dirname(file));
  try {
    return await withDeadline(
      new Promise<string[]>((resolve) => {
        const check = () => {
          const lines = logLines(file);
          if (lines.some((line) => pattern.test(line))) resolve(lines);
        };
        watcher.on('change', check);
        check();
      }),
      `${pattern} in the fake tools' log`,
    );
  } finally {
    watcher.close();
  }
}

const deletes = (addresses: readonly GuardedAddress[]) => addresses.map((held) => `ip addr del ${held.address}/${held.prefixLength} dev ${held.interface}`);

test('address guard: when the node is killed, the guard removes the last set it was told, and only that', async () => {
  // Goal: a node that dies by SIGKILL (even to its whole process group) leaves no address behind.
  await withFakeTools(async ({ log, env }) => {
    const program = `
      const { AddressGuard } = await import(process.argv[1]);
      const { silentLogger } = await import(process.argv[2]);
      const guard = AddressGuard.start(silentLogger());
      guard.hold(JSON.parse(process.argv[3]));
      guard.hold(JSON.parse(process.argv[4]));
      process.stdout.write('held\\n');
      setInterval(() => {}, 1000);
    `;
    const node = spawn(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        program,
        new URL('./address-guard.js', import.meta.url).href,
        new URL('../../platform/logger.js', import.meta.url).href,
        JSON.stringify(FIRST),
        JSON.stringify(LAST),
      ],
      { env, detached: true, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const exited = new Promise<NodeJS.Signals | null>((resolve) => node.once('exit', (_code, signal) => resolve(signal)));
    try {
      await withDeadline(
        new Promise<void>((resolve, reject) => {
          let output = '';
          node.stdout.on('data', (chunk: Buffer) => {
            output += chunk.toString();
            if (output.includes('held\n')) resolve();
          });
          node.once('exit', (code) => reject(new Error(`the node exited (${code}) before holding its addresses`)));
        }),
        'the node to hold its addresses',
      );
      assert.deepEqual(logLines(log), [], 'nothing is removed while the node lives');
      // The whole process group of the node: the guard, in a group of its own, must survive it.
      process.kill(-node.pid!, 'SIGKILL');
      assert.equal(await withDeadline(exited, 'the node to die'), 'SIGKILL');
      const lines = await waitForLog(log, EXITED);
      assert.deepEqual(lines.slice(0, -1), deletes(LAST));
      assert.match(lines.at(-1)!, EXITED);
    } finally {
      if (node.exitCode === null && node.signalCode === null) process.kill(-node.pid!, 'SIGKILL');
    }
  });
});

test('address guard: after a clean stop the guard exits and removes nothing', async () => {
  // Goal: a node that released its addresses and stopped does not have them removed behind it.
  await withFakeTools(async ({ log, env }) => {
    const lines: { msg: string }[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void lines.push(JSON.parse(line) as { msg: string }) });
    const saved = { PATH: process.env['PATH'], GUARD_LOG: process.env['GUARD_LOG'] };
    let guard: AddressGuard;
    try {
      // The guard inherits this process's environment as it is spawned.
      Object.assign(process.env, env);
      guard = AddressGuard.start(logger);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    guard.hold(FIRST);
    guard.hold(LAST);
    // A node stops once it has released everything: it tells the guard so, then ends.
    guard.hold([]);
    guard.stop();
    assert.deepEqual(await waitForLog(log, EXITED), ['guard exited 0']);
    // Told anything after it stopped, it says that those addresses are unguarded.
    guard.hold(FIRST);
    assert.ok(lines.some((line) => /address guard is gone/.test(line.msg)), 'a hold after stop is reported');
  });
});
