// The mutation guard (docs/design/fencing.md): a volume whose holder lost its lease refuses
// every change with 'fenced' and changes nothing on disk, whichever path asks (a namespace
// operation, a data write, a truncation, close marking the volume clean).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { createVolume, openVolume } from './volume.js';
import { ROOT, withTemporaryDirectory } from './volume-fixture.js';
import { StorageError } from './types.js';

const isFenced = (error: unknown) => error instanceof StorageError && error.code === 'fenced';

test('volume fencing: with the guard refusing, namespace changes fail fenced and nothing changes', async () => {
  // Goal: metadata transactions pass the guard first.
  await withTemporaryDirectory(async (directory) => {
    const dir = path.join(directory, 'vol');
    await createVolume(dir, { name: 'vol' });
    let allowed = true;
    const volume = await openVolume(dir, { guard: () => allowed });
    const file = volume.create(ROOT, volume.rootFileId, 'kept', { mode: 'guarded', attributes: { mode: 0o644 } });
    allowed = false;
    assert.throws(() => volume.create(ROOT, volume.rootFileId, 'new', { mode: 'guarded', attributes: {} }), isFenced);
    assert.throws(() => volume.mkdir(ROOT, volume.rootFileId, 'dir', {}), isFenced);
    assert.throws(() => volume.remove(ROOT, volume.rootFileId, 'kept'), isFenced);
    assert.throws(() => volume.setattr(ROOT, file, { mode: 0o600 }), isFenced);
    assert.throws(() => volume.setattr(ROOT, file, { size: 10n }), isFenced, 'a truncation is refused before it touches the data file');
    // Reads still work: a fenced node may look, not change.
    assert.equal(volume.lookup(ROOT, volume.rootFileId, 'kept'), file);
    assert.equal(volume.getattr(file).mode & 0o777, 0o644);
    allowed = true;
    await volume.close();
  });
});

test('volume fencing: a data write refused by the guard leaves the file as it was', async () => {
  // Goal: the last check before bytes reach the data file refuses them.
  await withTemporaryDirectory(async (directory) => {
    const dir = path.join(directory, 'vol');
    await createVolume(dir, { name: 'vol' });
    let allowed = true;
    const volume = await openVolume(dir, { guard: () => allowed });
    const file = volume.create(ROOT, volume.rootFileId, 'data', { mode: 'guarded', attributes: {} });
    await volume.write(ROOT, file, 0n, Buffer.from('before'), 'file-sync');
    allowed = false;
    await assert.rejects(volume.write(ROOT, file, 0n, Buffer.from('AFTER!'), 'unstable'), isFenced);
    await assert.rejects(volume.write(ROOT, file, 6n, Buffer.from('more'), 'file-sync'), isFenced);
    const { data } = await volume.read(ROOT, file, 0n, 100);
    assert.equal(data.toString(), 'before');
    assert.equal(volume.getattr(file).size, 6n);
    allowed = true;
    await volume.close();
  });
});

test('volume fencing: a fenced volume is not marked clean at close, so the next owner changes the verifier', async () => {
  // Goal: close cannot claim "nothing lost" for a volume another node may have taken over.
  await withTemporaryDirectory(async (directory) => {
    const dir = path.join(directory, 'vol');
    await createVolume(dir, { name: 'vol' });
    let allowed = true;
    const first = await openVolume(dir, { guard: () => allowed });
    const verifier = Buffer.from(first.writeVerifier);
    allowed = false;
    await first.close().catch((error: unknown) => assert.ok(isFenced(error), String(error)));
    const next = await openVolume(dir);
    assert.notDeepEqual(Buffer.from(next.writeVerifier), verifier);
    await next.close();
    const after = await openVolume(dir);
    assert.deepEqual(Buffer.from(after.writeVerifier), Buffer.from(next.writeVerifier), 'a clean close still keeps it');
    await after.close();
  });
});
