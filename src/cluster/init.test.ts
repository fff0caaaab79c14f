// Tests of `tandem init`: the directory it lays out loads as a valid configuration with real
// volumes and a private secret; it never overwrites a cluster; the command has --help.

import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openVolume } from '../storage/volume.js';
import { loadConfig } from './config.js';
import { CONFIG_FILE_NAME, initCluster, InitError } from './init.js';

const run = promisify(execFile);
const TANDEM_MAIN = fileURLToPath(new URL('../cli/main.js', import.meta.url));

async function withDirectory<T>(work: (directory: string) => Promise<T>): Promise<T> {
  const directory = await mkdtemp(path.join(tmpdir(), 'tandem-init-'));
  try {
    return await work(directory);
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
}

test('init: writes a loopback pair whose configuration loadConfig accepts', async () => {
  // Goal: the generated file is valid as written, with the documented nodes, filers and ports.
  await withDirectory(async (parent) => {
    const directory = path.join(parent, 'pair');
    const { configFile } = await initCluster(directory, {});
    assert.equal(configFile, path.join(directory, CONFIG_FILE_NAME));
    const config = await loadConfig(configFile);
    assert.deepEqual(config.warnings, []);
    assert.equal(config.name, 'pair');
    assert.equal(config.addressBackend, 'loopback');
    assert.deepEqual(config.nodes.map((node) => [node.name, node.interconnect.port, node.admin.port, node.partner]), [
      ['a', 31001, 31101, 'b'],
      ['b', 31002, 31102, 'a'],
    ]);
    assert.deepEqual(config.filers.map((filer) => [filer.name, filer.home, filer.addresses, filer.port, filer.volumes.map((volume) => volume.path)]), [
      ['a', 'a', ['127.0.0.11'], 20490, ['/a']],
      ['b', 'b', ['127.0.0.12'], 20490, ['/b']],
    ]);
    assert.equal(config.mailbox, path.join(directory, 'mailbox'));
    assert.ok((await stat(config.mailbox)).isDirectory());
    const text = await readFile(configFile, 'utf8');
    for (const section of ['cluster', 'nodes', 'filers', 'timing', 'addressBackend', 'log']) {
      assert.match(text, new RegExp(`#[^\\n]*\\n${section}:`), `a comment explains ${section}`);
    }
  });
});

test('init: the secret is 32 random bytes in hex, in a file only its owner can read', async () => {
  // Goal: the generated secret is strong, private and referenced by secretFile.
  await withDirectory(async (directory) => {
    const config = await loadConfig((await initCluster(directory, {})).configFile);
    assert.equal(config.secretFile, path.join(directory, 'secret'));
    assert.equal((await stat(config.secretFile)).mode & 0o777, 0o600);
    assert.match(config.secret.toString(), /^[0-9a-f]{64}$/);
    const other = await loadConfig((await initCluster(path.join(directory, 'other'), {})).configFile);
    assert.notDeepEqual(other.secret, config.secret);
  });
});

test('init: each filer gets a volume that opens, named and exported after the filer', async () => {
  // Goal: the volumes exist as real volumes, ready to serve.
  await withDirectory(async (directory) => {
    const config = await loadConfig((await initCluster(directory, { nodes: ['east', 'west'] })).configFile);
    assert.deepEqual(config.nodes.map((node) => [node.name, node.partner]), [['east', 'west'], ['west', 'east']]);
    for (const filer of config.filers) {
      const [volume] = filer.volumes;
      assert.equal(volume?.directory, path.join(directory, 'volumes', filer.name));
      assert.equal(volume.path, `/${filer.name}`);
      assert.equal(config.filersHomedAt(filer.name)[0], filer);
      const opened = await openVolume(volume.directory);
      try {
        assert.equal(opened.identity.name, filer.name);
      } finally {
        await opened.close();
      }
    }
  });
});

test('init: refuses a directory that holds a configuration already, and writes nothing', async () => {
  // Goal: an existing cluster (its secret, its volumes) is never overwritten.
  await withDirectory(async (directory) => {
    await writeFile(path.join(directory, CONFIG_FILE_NAME), 'cluster: {}\n');
    await assert.rejects(initCluster(directory, {}), (error) => {
      assert.ok(error instanceof InitError);
      assert.equal(error.code, 'exists');
      assert.match(error.message, /tandem\.yaml exists already/);
      return true;
    });
    assert.deepEqual(await readdir(directory), [CONFIG_FILE_NAME]);
  });
});

test('init: refuses when a volume it would create exists, before writing anything', async () => {
  // Goal: a half-initialized directory is reported, not partly overwritten.
  await withDirectory(async (directory) => {
    await mkdir(path.join(directory, 'volumes', 'b'), { recursive: true });
    await assert.rejects(initCluster(directory, {}), /volumes\/b exists already/);
    await assert.rejects(access(path.join(directory, 'secret')));
  });
});

test('init: refuses node names that are equal or not names', async () => {
  // Goal: the names become keys and folders, so they are checked before anything is written.
  await withDirectory(async (directory) => {
    await assert.rejects(initCluster(directory, { nodes: ['a', 'a'] }), /different names/);
    await assert.rejects(initCluster(directory, { nodes: ['a', 'b/c'] }), /node name "b\/c"/);
    assert.deepEqual(await readdir(directory), []);
  });
});

test('init: tandem init --help prints the usage and exits 0', async () => {
  // Goal: every subcommand has --help (DESIGN.md), and the main usage lists init.
  const { stdout } = await run(process.execPath, [TANDEM_MAIN, 'init', '--help']);
  assert.match(stdout, /^usage: tandem init DIR \[--nodes A,B\]/);
  const main = await run(process.execPath, [TANDEM_MAIN, '--help']);
  assert.match(main.stdout, /\n  init DIR/);
});

test('init: tandem init DIR prints what it created and the command that starts a node', async () => {
  // Goal: an operator learns from the output what to run next.
  await withDirectory(async (parent) => {
    const directory = path.join(parent, 'lab');
    const { stdout } = await run(process.execPath, [TANDEM_MAIN, 'init', directory, '--nodes', 'n1,n2']);
    assert.match(stdout, /created cluster lab/);
    assert.match(stdout, /nfs:\/\/127\.0\.0\.11\/n1\?version=3&nfsport=20490&mountport=20490/);
    assert.ok(stdout.includes(`tandem node --config ${path.join(directory, CONFIG_FILE_NAME)} --node n1\n`), stdout);
    await assert.rejects(run(process.execPath, [TANDEM_MAIN, 'init', directory]), (error: { code?: number; stderr?: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr ?? '', /exists already/);
      return true;
    });
    await assert.rejects(run(process.execPath, [TANDEM_MAIN, 'init', path.join(parent, 'x'), '--nodes', 'a']), (error: { code?: number }) => error.code === 2);
  });
});
