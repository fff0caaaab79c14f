// The quick start (`npm start` runs `tandem demo`): on a pair initialised with test addresses and
// free ports, the demo prints its banner only once both filers are served, so the URLs it prints
// answer a real NFS client at once; Ctrl-C (SIGINT) stops both nodes and the demo exits 0.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { initTestCluster, NODE_START_DEADLINE_MS, NODE_STOP_DEADLINE_MS } from '../support/cluster-processes.js';
import { runOk, TANDEM_MAIN } from '../support/processes.js';
import { scratchDirectory } from '../support/scratch.js';

const scratch = scratchDirectory('demo');
after(() => scratch.remove());

const BANNER_END = 'Ctrl-C stops both nodes.';

test('demo: the banner names both filers served by their home nodes, its URLs answer nfs-ls, and SIGINT stops both nodes', async () => {
  const directory = path.join(scratch.path, 'pair');
  await initTestCluster(directory);
  const demo = spawn(process.execPath, [TANDEM_MAIN, 'demo', directory], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exit = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)));
  let stdout = '';
  let stderr = '';
  demo.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no banner within ${NODE_START_DEADLINE_MS} ms\nstdout: ${stdout}\nstderr: ${stderr}`)), NODE_START_DEADLINE_MS);
      demo.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString();
        if (stdout.includes(BANNER_END)) {
          clearTimeout(timer);
          resolve();
        }
      });
      void exit.then((code) => reject(new Error(`the demo exited (${code}) before its banner\nstderr: ${stderr}`)));
    });
    assert.match(stdout, /^filer a \(served by a\):$/m);
    assert.match(stdout, /^filer b \(served by b\):$/m);
    assert.doesNotMatch(stdout, /warning/);
    const urls = [...stdout.matchAll(/^ {2}nfs-ls '([^']+)'$/gm)].map((match) => match[1]!);
    assert.equal(urls.length, 2, stdout);
    for (const url of urls) await runOk('nfs-ls', [url], { timeoutMs: 10_000 });
  } finally {
    demo.kill('SIGINT');
    const code = await Promise.race([exit, new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), NODE_STOP_DEADLINE_MS).unref())]);
    if (code === 'timeout') demo.kill('SIGKILL');
    assert.equal(code, 0, `the demo's exit after SIGINT\nstderr: ${stderr}`);
  }
});
