import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { DirectoryEntry, Volume } from './types.js';
import { newFile, ROOT, withTemporaryDirectory, withVolume } from './volume-fixture.js';
import { COOKIE_OFFSET, createVolume, openVolume } from './volume.js';

function readAll(volume: Volume, directory: bigint, pageSize: number, from = 0n): DirectoryEntry[] {
  const entries: DirectoryEntry[] = [];
  let cookie = from;
  for (;;) {
    const page = volume.readdir(ROOT, directory, cookie, pageSize, false);
    entries.push(...page.entries);
    const last = page.entries.at(-1);
    if (page.eof || last === undefined) return entries;
    cookie = last.cookie;
  }
}

test('readdir: pages of a few entries list every entry once, in order, ending with eof', async () => {
  // Goal: pagination by cookie; cookies leave 0, 1 and 2 to the NFS layer.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const names = Array.from({ length: 10 }, (_, index) => `n${index}`);
    for (const name of names) newFile(volume, ROOT, root, name);
    const entries = readAll(volume, root, 3);
    assert.deepEqual(
      entries.map((entry) => entry.name),
      names,
    );
    assert.ok(entries.every((entry) => entry.cookie > COOKIE_OFFSET));
    const first = volume.readdir(ROOT, root, 0n, 3, false);
    assert.equal(first.entries.length, 3);
    assert.equal(first.eof, false);
    const whole = volume.readdir(ROOT, root, 0n, 10, false);
    assert.equal(whole.eof, true, 'eof when the last entry is on the page');
    assert.equal(volume.readdir(ROOT, root, 0n, 0, false).entries.length, 1, 'a zero limit is clamped to one');
  });
});

test('readdir: a cookie of a deleted entry continues after it', async () => {
  // Goal: cookies stay meaningful when entries go.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    for (const name of ['a', 'b', 'c', 'd']) newFile(volume, ROOT, root, name);
    const [, second] = volume.readdir(ROOT, root, 0n, 2, false).entries;
    assert.equal(second?.name, 'b');
    volume.remove(ROOT, root, 'b');
    volume.remove(ROOT, root, 'a');
    const rest = readAll(volume, root, 10, second?.cookie ?? 0n);
    assert.deepEqual(
      rest.map((entry) => entry.name),
      ['c', 'd'],
    );
  });
});

test('readdir: cookies and the cookie verifier are the same after a reopen', async () => {
  // Goal: READDIR can continue across restart and takeover.
  await withTemporaryDirectory(async (parent) => {
    const dir = join(parent, 'v');
    await createVolume(dir, {});
    const first = await openVolume(dir);
    const sub = first.mkdir(ROOT, first.rootFileId, 'sub', {});
    for (const name of ['a', 'b', 'c', 'd', 'e']) newFile(first, ROOT, sub, name);
    const before = readAll(first, sub, 2);
    const verifier = first.cookieVerifier(sub);
    assert.equal(verifier.length, 8);
    assert.notDeepEqual(first.cookieVerifier(first.rootFileId), verifier);
    await first.close();
    const second = await openVolume(dir);
    try {
      assert.deepEqual(second.cookieVerifier(sub), verifier);
      const after = readAll(second, sub, 10, before[1]?.cookie ?? 0n);
      assert.deepEqual(after, before.slice(2));
    } finally {
      await second.close();
    }
  });
});

test('readdir: with attributes, each entry carries what getattr says', async () => {
  // Goal: READDIRPLUS gets attributes in the same query, consistent with GETATTR.
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const file = newFile(volume, ROOT, root, 'f', 0o600);
    const dir = volume.mkdir(ROOT, root, 'd', {});
    const page = volume.readdir(ROOT, root, 0n, 10, true);
    assert.equal(page.entries.length, 2);
    assert.deepEqual(page.entries[0]?.attributes, volume.getattr(file));
    assert.deepEqual(page.entries[1]?.attributes, volume.getattr(dir));
    assert.equal(volume.readdir(ROOT, root, 0n, 10, false).entries[0]?.attributes, undefined);
    assert.throws(() => volume.readdir(ROOT, file, 0n, 10, false), { code: 'not-dir' });
    assert.throws(() => volume.cookieVerifier(file), { code: 'not-dir' });
  });
});

test('readdir: names of any bytes come back exactly, ASCII or not, valid UTF-8 or not', async () => {
  // Goal: names are latin1 byte strings (RFC 1813 filename3 is opaque bytes); the listing reads
  // ASCII names as text and every other name as bytes (metadata-store.ts, entries).
  await withVolume((volume) => {
    const root = volume.rootFileId;
    const names = [
      'plain.txt',
      'caf\xe9', // latin1 é: a lone byte that is not UTF-8
      '\xc3\xa9t\xc3\xa9', // "été" as UTF-8 bytes: valid UTF-8, not ASCII
      'a\x80b\xff', // a continuation byte alone, and 0xff
      '\xc0\x80', // an overlong NUL
      'tab\there',
      '\x7f',
    ];
    for (const name of names) newFile(volume, ROOT, root, name);
    assert.deepEqual(readAll(volume, root, 3).map((entry) => entry.name), names);
    assert.deepEqual(volume.readdir(ROOT, root, 0n, 10, true).entries.map((entry) => entry.name), names, 'with attributes too');
  });
});
