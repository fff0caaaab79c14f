// A fenced node sends no reply (docs/design/fencing.md): when a volume's mutation guard refuses,
// NFS calls that would change it are dropped unanswered, so the client retransmits to the node
// that holds the volume now, while calls that only read are still answered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as nfs from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import { Nfsv3CreateHow, Nfsv3DirOpArgs } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { Dispatcher } from '../../src/rpc/dispatcher.js';
import { DuplicateRequestCache } from '../../src/rpc/duplicate-request-cache.js';
import { nfsProgram } from '../../src/nfs3/program.js';
import { NFSPROC3, nfsstat3 } from '../../src/nfs3/constants.js';
import { ExportTable } from '../../src/exports/export-table.js';
import { parseClientRules } from '../../src/exports/client-rules.js';
import { RequestGate } from '../../src/server/request-gate.js';
import { createVolume, openVolume } from '../../src/storage/volume.js';
import { silentLogger } from '../../src/platform/logger.js';
import { scratchDirectory } from '../support/scratch.js';
import { decodeNfsReply, encodeCall, encodeNfsArgs, fh, nextXid, NFS_PROGRAM, NFS_VERSION, ROOT, sattr } from '../support/rpc-client.js';

const CONNECTION = { id: 1, client: { address: '127.0.0.1', port: 900 }, local: { address: '127.0.0.1', port: 2049 } };

test('fencing: a fenced volume drops CREATE unanswered and still answers GETATTR', async () => {
  // Goal: the storage guard's 'fenced' becomes a drop at the NFS layer, never an error reply.
  const scratch = scratchDirectory('fenced');
  try {
    const directory = path.join(scratch.path, 'vol');
    await createVolume(directory, { name: 'vol' });
    let allowed = true;
    const volume = await openVolume(directory, { guard: () => allowed });
    const table = new ExportTable([{ path: '/vol', volume, rules: parseClientRules('127.0.0.0/8(rw,no_root_squash)'), gate: new RequestGate() }]);
    const dispatcher = new Dispatcher([nfsProgram(table)], new DuplicateRequestCache(), silentLogger());
    const root = volume.fileHandle(volume.rootFileId);
    const call = (procedure: number, request: nfs.Nfsv3Request) =>
      dispatcher.dispatch(
        encodeCall({ program: NFS_PROGRAM, version: NFS_VERSION, procedure, xid: nextXid(), credential: ROOT, args: encodeNfsArgs(procedure, request) }),
        CONNECTION,
      );
    const create = (name: string) =>
      call(NFSPROC3.CREATE, new nfs.Nfsv3CreateRequest(new Nfsv3DirOpArgs(fh(root), name), new Nfsv3CreateHow(1, sattr({ mode: 0o644 }))));

    const before = await create('while-held');
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, Buffer.concat(before!)).status, nfsstat3.NFS3_OK, 'the holder answers');
    allowed = false;
    assert.equal(await create('after-fencing'), undefined, 'a fenced node sends no reply');
    const getattr = await call(NFSPROC3.GETATTR, new nfs.Nfsv3GetattrRequest(fh(root)));
    assert.equal(decodeNfsReply(NFSPROC3.GETATTR, Buffer.concat(getattr!)).status, nfsstat3.NFS3_OK, 'reads are still answered');
    allowed = true;
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, Buffer.concat((await create('after-fencing'))!)).status, nfsstat3.NFS3_OK, 'the dropped call was not executed, nor cached');

    // Group commit: the change is made when the call runs, but the reply waits for the commit.
    // Fenced in between (the lease ran out), the commit is refused and the call is dropped.
    const racing = create('fenced-before-commit');
    allowed = false;
    assert.equal(await racing, undefined, 'no reply for a change that never became durable');
    allowed = true;
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, Buffer.concat((await create('fenced-before-commit'))!)).status, nfsstat3.NFS3_OK, 'it was rolled back, so a retransmission creates it');
    await assert.rejects(volume.close(), /a metadata commit failed/, 'a volume that lost a commit is not closed clean');
  } finally {
    scratch.remove();
  }
});
