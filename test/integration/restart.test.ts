// Integration: what a client holds across a restart of `tandem serve` on the same volume: file
// handles, READDIR cookies and cookie verifiers, and the write verifier (RFC 1813 3.3.7: it
// stays across a clean stop and changes when acknowledged unstable data may have been lost).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { createVolumeWithCli, TandemProcess } from '../support/processes.js';
import { scratchDirectory } from '../support/scratch.js';
import { entriesOf, FILE_SYNC, handleOf, NfsClient, UNSTABLE } from '../support/rpc-client.js';
import { nfsstat3, stable_how } from '../../src/nfs3/constants.js';

const scratch = scratchDirectory('restart');
let serveArgs: string[];
let server: TandemProcess;
let client: NfsClient;
let exportPath: string;
let root: Buffer;

before(async () => {
  const volumeDir = path.join(scratch.path, 'vol');
  await createVolumeWithCli(volumeDir, 'restart');
  serveArgs = ['--volume', volumeDir, '--listen', '127.0.0.1:0', '--clients', '127.0.0.0/8(rw,no_root_squash)', '--log-level', 'warn'];
  server = await TandemProcess.serve(serveArgs, 1);
  exportPath = new URL(server.urls[0]!).pathname;
  client = await NfsClient.connect(server.port);
  root = await client.mountRoot(exportPath);
});

after(async () => {
  await client?.close();
  await server?.stop();
  scratch.remove();
});

/** Stops the server with `signal`, starts it again on the same volume, and reconnects. */
async function restart(signal: 'SIGTERM' | 'SIGKILL'): Promise<void> {
  await client.close();
  const code = await server.stop(signal);
  if (signal === 'SIGTERM') assert.equal(code, 0, `a clean stop exits 0\n${server.stderr}`);
  server = await TandemProcess.serve(serveArgs, 1);
  client = await NfsClient.connect(server.port);
}

test('restart: a file handle from before a clean restart (SIGTERM) still gets its attributes and data after it', async () => {
  // Goal: handles are built from what the volume stores, so they survive a clean restart.
  const file = await client.createFile(root, 'kept');
  const data = randomBytes(100_000);
  assert.equal((await client.write(file, 0n, data, FILE_SYNC)).status, nfsstat3.NFS3_OK);
  const original = (await client.getattr(file)).resok!.objAttributes;

  await restart('SIGTERM');

  // The old handles work without a new MOUNT; MOUNT hands out the same root handle.
  const attributes = await client.getattr(file);
  assert.equal(attributes.status, nfsstat3.NFS3_OK);
  assert.equal(attributes.resok!.objAttributes.fileid, original.fileid);
  assert.equal(attributes.resok!.objAttributes.size, BigInt(data.length));
  assert.deepEqual(attributes.resok!.objAttributes.mtime, original.mtime);
  const read = await client.read(file, 0n, data.length);
  assert.equal(read.status, nfsstat3.NFS3_OK);
  assert.ok(Buffer.from(read.resok!.data).equals(data), 'the data reads back by the old handle');
  assert.deepEqual(await client.handleOf(root, 'kept'), file);
  const plus = await client.readdirplus(root);
  assert.equal(plus.status, nfsstat3.NFS3_OK);
  let listed: Buffer | undefined;
  for (let entry = plus.resok!.reply.entries; entry !== undefined; entry = entry.nextentry) {
    if (entry.name === 'kept') listed = handleOf(entry.nameHandle);
  }
  assert.deepEqual(listed, file, 'READDIRPLUS hands out the same handle');
  assert.deepEqual(await client.mountRoot(exportPath), root);
});

test('restart: READDIR continued from a cookie and cookieverf from before a clean restart returns exactly the remaining entries', async () => {
  // Goal: cookies and cookieverfs are stable, so a listing continues across a restart.
  const directory = await client.makeDirectory(root, 'listing');
  for (let i = 0; i < 60; i++) await client.createFile(directory, `name-${String(i).padStart(2, '0')}`);
  const all = (await client.list(directory)).map((entry) => entry.name);
  assert.equal(all.length, 62, "60 names with '.' and '..'");
  const page = await client.readdir(directory, 0n, new Uint8Array(8), 512);
  assert.equal(page.status, nfsstat3.NFS3_OK);
  assert.equal(page.resok!.reply.eof, false, 'the first page is partial');
  const seen = entriesOf(page);
  assert.deepEqual(seen.map((entry) => entry.name), all.slice(0, seen.length));
  const cookie = seen.at(-1)!.cookie;
  const verifier = Buffer.from(page.resok!.cookieverf);

  await restart('SIGTERM');

  const rest: string[] = [];
  let next = cookie;
  let nextVerifier: Uint8Array = verifier;
  for (;;) {
    const result = await client.readdir(directory, next, nextVerifier, 512);
    assert.equal(result.status, nfsstat3.NFS3_OK, 'the old cookie and cookieverf are accepted');
    assert.deepEqual(Buffer.from(result.resok!.cookieverf), verifier, 'the cookieverf is the same');
    for (const entry of entriesOf(result)) {
      rest.push(entry.name);
      next = entry.cookie;
    }
    nextVerifier = result.resok!.cookieverf;
    if (result.resok!.reply.eof) break;
  }
  assert.deepEqual(rest, all.slice(seen.length));
});

test('restart: the write verifier is the same after a clean restart, and unstable data written before it survives', async () => {
  // Goal: RFC 1813 3.3.7: a clean stop makes unstable data stable and keeps the write verifier.
  const file = await client.createFile(root, 'verifier-clean');
  const stable = await client.write(file, 0n, Buffer.from('stable'), FILE_SYNC);
  const verifier = Buffer.from(stable.resok!.verf);
  const data = randomBytes(64 * 1024);
  const unstable = await client.write(file, 6n, data, UNSTABLE);
  assert.equal(unstable.resok!.committed, stable_how.UNSTABLE);
  assert.deepEqual(Buffer.from(unstable.resok!.verf), verifier);

  await restart('SIGTERM');

  const rewritten = await client.write(file, 0n, Buffer.from('STABLE'), FILE_SYNC);
  assert.equal(rewritten.status, nfsstat3.NFS3_OK);
  assert.deepEqual(Buffer.from(rewritten.resok!.verf), verifier, 'WRITE: the same verifier');
  const committed = await client.commit(file);
  assert.deepEqual(Buffer.from(committed.resok!.verf), verifier, 'COMMIT: the same verifier');
  const read = await client.read(file, 6n, data.length);
  assert.ok(Buffer.from(read.resok!.data).equals(data), 'a clean stop made the unstable data stable');
});

test('restart: after kill -9 with unstable data written, handles still work and the write verifier changes', async () => {
  // Goal: RFC 1813 3.3.7: after a crash that may have lost unstable data, the verifier changes.
  const file = await client.createFile(root, 'verifier-crash');
  const unstable = await client.write(file, 0n, randomBytes(32 * 1024), UNSTABLE);
  assert.equal(unstable.status, nfsstat3.NFS3_OK);
  assert.equal(unstable.resok!.committed, stable_how.UNSTABLE);
  const verifier = Buffer.from(unstable.resok!.verf);

  await restart('SIGKILL');

  assert.equal((await client.getattr(file)).status, nfsstat3.NFS3_OK, 'the handle from before the crash works');
  assert.equal((await client.getattr(root)).status, nfsstat3.NFS3_OK);
  const committed = await client.commit(file);
  assert.equal(committed.status, nfsstat3.NFS3_OK);
  assert.notDeepEqual(Buffer.from(committed.resok!.verf), verifier, 'COMMIT tells the client to write again');
  const written = await client.write(file, 0n, Buffer.from('again'), FILE_SYNC);
  assert.notDeepEqual(Buffer.from(written.resok!.verf), verifier, 'WRITE: a new verifier');
  assert.deepEqual(Buffer.from(written.resok!.verf), Buffer.from(committed.resok!.verf));
});
