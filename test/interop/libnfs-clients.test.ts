// Interop: real NFS clients nobody here wrote (Debian's libnfs-utils and the shared libnfs-based
// nfsbench) against a real `tandem serve` process on loopback.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createVolumeWithCli, runOk, TandemProcess } from '../support/processes.js';
import { nfsbench, summary } from '../support/nfsbench.js';
import { scratchDirectory } from '../support/scratch.js';
import { openVolume } from '../../src/storage/volume.js';

const ROOT = { uid: 0, gid: 0, gids: [] };
const LISTED_FILES = 1000;

const scratch = scratchDirectory('interop');
let server: TandemProcess;
let url: string;

before(async () => {
  const volumeDir = path.join(scratch.path, 'vol');
  await createVolumeWithCli(volumeDir, 'interop');
  // A directory of 1,000 files, made through the storage layer before the server starts.
  const volume = await openVolume(volumeDir);
  const listed = volume.mkdir(ROOT, volume.rootFileId, 'listed', { mode: 0o755 });
  for (let i = 0; i < LISTED_FILES; i++) {
    volume.create(ROOT, listed, `file-${String(i).padStart(4, '0')}`, { mode: 'guarded', attributes: { mode: 0o644 } });
  }
  await volume.close();
  server = await TandemProcess.serve(['--volume', volumeDir, '--listen', '127.0.0.1:0', '--clients', '127.0.0.0/8(rw,no_root_squash)'], 1);
  url = server.urls[0]!;
});

after(async () => {
  await server?.stop();
  scratch.remove();
});

/** The URL of a path inside the export. */
function at(name: string): string {
  const [base, query] = url.split('?') as [string, string];
  return `${base}/${name}?${query}`;
}

test('interop: nfs-cp copies a 10 MiB random file in and back out unchanged', async () => {
  const data = randomBytes(10 * 1024 * 1024);
  const source = path.join(scratch.path, 'in.bin');
  const back = path.join(scratch.path, 'out.bin');
  writeFileSync(source, data);
  await runOk('nfs-cp', [source, at('big.bin')]);
  await runOk('nfs-cp', [at('big.bin'), back]);
  const digest = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');
  assert.equal(digest(readFileSync(back)), digest(data));
});

test('interop: nfs-ls lists a directory of 1,000 files', async () => {
  const { stdout } = await runOk('nfs-ls', [at('listed')]);
  const names = stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).at(-1) ?? '')
    .filter((name) => name.startsWith('file-'));
  assert.equal(names.length, LISTED_FILES);
  assert.equal(new Set(names).size, LISTED_FILES);
  assert.ok(names.includes('file-0000') && names.includes('file-0999'));
});

test('interop: nfs-cat prints a file that nfs-cp wrote', async () => {
  const source = path.join(scratch.path, 'hello.txt');
  writeFileSync(source, 'hello from tandem\n');
  await runOk('nfs-cp', [source, at('hello.txt')]);
  const { stdout } = await runOk('nfs-cat', [at('hello.txt')]);
  assert.equal(stdout, 'hello from tandem\n');
});

test('interop: every nfsbench mode runs to completion with 0 errors', async () => {
  const bench = await nfsbench();
  // The data modes share one kept 16 MiB file, so the reads reuse what seqwrite laid out.
  const data = ['-S', '16m', '-t', '2', '-R', '0', '-k', '-f', 'bench.dat'];
  const runs: [mode: string, args: string[]][] = [
    ['meta', ['-n', '300', '-q', '16']],
    ['seqwrite', data],
    ['seqread', data],
    ['randwrite', data],
    ['randread', data],
    ['probe', ['-t', '3', '-M', '4m']],
  ];
  for (const [mode, args] of runs) {
    const { stdout } = await runOk(bench, [mode, ...args, url], { timeoutMs: 120_000 });
    const values = summary(stdout, mode);
    assert.equal(values.get('errors'), '0', `${mode}: ${stdout}`);
    if (mode === 'probe') {
      assert.equal(values.get('stale_handles'), '0');
      assert.equal(values.get('lost_acked_writes'), '0');
      assert.equal(values.get('verified'), '1');
    }
  }
  const cleanup = await runOk(bench, ['-x', url, 'bench.dat']);
  assert.match(cleanup.stdout, /cleanup: removed=1 missing=0 failed=0/);
});
