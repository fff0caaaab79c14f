import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileHandles, HANDLE_BYTES, HANDLE_CACHE_ENTRIES_MAX } from './file-handles.js';
import type { Volume } from './types.js';
import { HANDLE_KEY_FILE } from './volume-directory.js';
import { newFile, ROOT, withTemporaryDirectory, withVolume } from './volume-fixture.js';
import { createVolume, openVolume } from './volume.js';

function assertBadHandle(volume: Volume, handle: Buffer, why: string): void {
  assert.throws(() => volume.resolveHandle(handle), { code: 'bad-handle' }, why);
}

test('file handles: a handle is 45 bytes and resolves to its file', async () => {
  // Goal: the layout of the contract (at most NFS3_FHSIZE) and the round trip.
  await withVolume((volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const handle = volume.fileHandle(file);
    assert.equal(handle.length, HANDLE_BYTES);
    assert.equal(HANDLE_BYTES, 45);
    assert.equal(volume.resolveHandle(handle), file);
    assert.equal(volume.resolveHandle(volume.fileHandle(volume.rootFileId)), volume.rootFileId);
  });
});

test('file handles: a handle from before a reopen still resolves', async () => {
  // Goal: handles depend only on what the volume stores, so they survive restart and takeover.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const first = await openVolume(dir);
    const file = newFile(first, ROOT, first.rootFileId, 'f');
    const handle = first.fileHandle(file);
    await first.close();
    const second = await openVolume(dir);
    try {
      assert.equal(second.resolveHandle(handle), file);
      assert.deepEqual(second.fileHandle(file), handle);
    } finally {
      await second.close();
    }
  });
});

test('file handles: an altered byte anywhere makes a bad handle', async () => {
  // Goal: format, volume id, fileid, generation and tag are all covered by the check.
  await withVolume((volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const handle = volume.fileHandle(file);
    for (const index of [0, 1, 16, 17, 24, 25, 28, 29, 44]) {
      const altered = Buffer.from(handle);
      altered[index] = (altered[index] ?? 0) ^ 0x01;
      assertBadHandle(volume, altered, `byte ${index}`);
    }
    assert.equal(volume.resolveHandle(handle), file, 'the original still resolves');
  });
});

test('file handles: a truncated, extended or empty handle is a bad handle', async () => {
  // Goal: the length is checked before anything else.
  await withVolume((volume) => {
    const handle = volume.fileHandle(volume.rootFileId);
    assertBadHandle(volume, handle.subarray(0, 44), 'truncated');
    assertBadHandle(volume, Buffer.concat([handle, Buffer.alloc(1)]), 'extended');
    assertBadHandle(volume, Buffer.alloc(0), 'empty');
  });
});

test('file handles: a handle forged without the volume key is a bad handle', async () => {
  // Goal: knowing the volume id, fileid and generation is not enough without the secret.
  await withVolume((volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const genuine = volume.fileHandle(file);
    const forger = new FileHandles(volume.identity.id, randomBytes(32), () => genuine.readUInt32BE(25));
    assertBadHandle(volume, forger.encode(file, genuine.readUInt32BE(25)), 'forged');
  });
});

test('file handles: a handle of another volume is a bad handle', async () => {
  // Goal: a handle is never resolved by a volume that did not issue it.
  await withVolume(async (first) => {
    await withVolume((second) => {
      const handle = second.fileHandle(second.rootFileId);
      assertBadHandle(first, handle, 'other volume');
    });
  });
});

test('file handles: the handle of a removed file is stale, even after it was cached', async () => {
  // Goal: removal invalidates the verified-handle cache.
  await withVolume((volume) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const handle = volume.fileHandle(file);
    assert.equal(volume.resolveHandle(handle), file);
    volume.remove(ROOT, volume.rootFileId, 'f');
    assert.throws(() => volume.resolveHandle(handle), { code: 'stale' });
    assert.throws(() => volume.getattr(file), { code: 'stale' });
  });
});

test('file handles: a genuine handle with another generation is stale', async () => {
  // Goal: the generation distinguishes incarnations of a fileid.
  await withVolume(async (volume, dir) => {
    const file = newFile(volume, ROOT, volume.rootFileId, 'f');
    const generation = volume.fileHandle(file).readUInt32BE(25);
    const key = await readFile(join(dir, HANDLE_KEY_FILE));
    const issuer = new FileHandles(volume.identity.id, key, () => undefined);
    const other = issuer.encode(file, (generation + 1) >>> 0);
    assert.throws(() => volume.resolveHandle(other), { code: 'stale' });
    assert.throws(() => volume.resolveHandle(issuer.encode(999_999n, 7)), { code: 'stale' }, 'no such fileid');
  });
});

test('file handles: verified handles are cached, and the cache is bounded', () => {
  // Goal: the hot path skips the HMAC and the lookup, and the cache forgets the least recently used.
  const volumeId = randomBytes(16);
  const key = randomBytes(32);
  let lookups = 0;
  const handles = new FileHandles(volumeId, key, () => {
    lookups += 1;
    return 0;
  });
  // Handles a client kept from before a restart: made by another instance with the same key.
  const before = new FileHandles(volumeId, key, () => 0);
  const first = before.encode(1n, 0);
  handles.resolve(first);
  handles.resolve(first);
  assert.equal(lookups, 1, 'second resolve from the cache');
  handles.resolve(handles.encode(2n, 0));
  assert.equal(lookups, 1, 'a handle this instance made is genuine by construction: no lookup');
  for (let fileid = 3n; fileid <= BigInt(HANDLE_CACHE_ENTRIES_MAX) + 2n; fileid += 1n) {
    handles.resolve(before.encode(fileid, 0));
  }
  const counted = lookups;
  handles.resolve(first);
  assert.equal(lookups, counted + 1, 'the oldest entry was evicted');
});

test('file handles: encoding is cached per fileid, and a new generation gets a new handle', () => {
  // Goal: the HMAC of a handle is paid once per file, and the cache never hands out an old generation's handle.
  const handles = new FileHandles(randomBytes(16), randomBytes(32), () => 0);
  const first = handles.encode(7n, 1);
  const bytes = Buffer.from(first);
  assert.equal(handles.encode(7n, 1), first, 'the cached buffer itself, not a copy (callers must not change it)');
  assert.deepEqual(first, bytes);
  const next = handles.encode(7n, 2);
  assert.notDeepEqual(next, first);
  assert.equal(next.readUInt32BE(25), 2);
  handles.forget(7n, 2);
  assert.deepEqual(handles.encode(7n, 2), next, 'after forget it is encoded anew, to the same bytes');
});

/** A format-1 handle as the header defines it, built here without FileHandles. */
function formatOneHandle(volumeId: Buffer, key: Buffer, fileid: bigint, generation: number): Buffer {
  const body = Buffer.alloc(29);
  body.writeUInt8(1, 0);
  volumeId.copy(body, 1);
  body.writeBigUInt64BE(fileid, 17);
  body.writeUInt32BE(generation, 25);
  return Buffer.concat([body, createHmac('sha256', key).update(body).digest().subarray(0, 16)]);
}

test('file handles: the layout and tag are those of format 1, so handles clients hold survive an upgrade', () => {
  // Goal: a handle is format | volume id | fileid | generation | HMAC-SHA256 of those 29 bytes, truncated to 16.
  const volumeId = randomBytes(16);
  const key = randomBytes(32);
  const handles = new FileHandles(volumeId, key, () => 9);
  for (const [fileid, generation] of [[1n, 0], [0x0123456789abcdefn, 9], [2n ** 64n - 1n, 0xffffffff]] as const) {
    assert.deepEqual(handles.encode(fileid, generation), formatOneHandle(volumeId, key, fileid, generation));
  }
  // And a handle made that way verifies as genuine (a fresh instance: nothing cached).
  assert.equal(new FileHandles(volumeId, key, () => 9).resolve(formatOneHandle(volumeId, key, 42n, 9)), 42n);
});

test('file handles: a cookie verifier is HMAC-SHA256 of its label, volume id, fileid and generation, truncated to 8', () => {
  // Goal: cookie verifiers clients hold across an upgrade still match (a mismatch is BAD_COOKIE).
  const volumeId = randomBytes(16);
  const key = randomBytes(32);
  const handles = new FileHandles(volumeId, key, () => 9);
  for (const [fileid, generation] of [[1n, 0], [0x0123456789abcdefn, 9], [2n ** 64n - 1n, 0xffffffff]] as const) {
    const numbers = Buffer.alloc(12);
    numbers.writeBigUInt64BE(fileid, 0);
    numbers.writeUInt32BE(generation, 8);
    const expected = createHmac('sha256', key).update('cookie verifier').update(volumeId).update(numbers).digest().subarray(0, 8);
    assert.deepEqual(handles.cookieVerifier(fileid, generation), expected, `fileid ${fileid}`);
  }
  // Computing one leaves handles as they were (both share the HMAC's key blocks).
  assert.deepEqual(handles.encode(5n, 1), formatOneHandle(volumeId, key, 5n, 1));
});
