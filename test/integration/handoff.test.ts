// The server half of a takeover, in one process: a filer's FileServer drains, hands off and
// stops with a reset; a second FileServer starts on the same volume and address with that
// hand-off. What a client would notice must not change: its handles, the write verifier,
// and the replies to non-idempotent calls it retransmits (docs/design/takeover.md, steps 3-6).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import * as nfs from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import { Nfsv3CreateHow, Nfsv3DirOpArgs } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { FileServer } from '../../src/server/file-server.js';
import { createVolume } from '../../src/storage/volume.js';
import { parseClientRules } from '../../src/exports/client-rules.js';
import { silentLogger } from '../../src/platform/logger.js';
import { NFSPROC3, nfsstat3 } from '../../src/nfs3/constants.js';
import { scratchDirectory } from '../support/scratch.js';
import {
  decodeNfsReply,
  encodeCall,
  encodeNfsArgs,
  fh,
  nextXid,
  NfsClient,
  NFS_PROGRAM,
  NFS_VERSION,
  ROOT,
  sattr,
  UNSTABLE,
} from '../support/rpc-client.js';

const DRAIN_DEADLINE_MS = 2000;

async function startFiler(directory: string, port: number, handoff?: Parameters<typeof FileServer.start>[0]['handoff']) {
  const rules = parseClientRules('127.0.0.0/8(rw,no_root_squash)');
  return FileServer.start({
    exports: [{ directory, rules }],
    hosts: ['127.0.0.1'],
    port,
    log: silentLogger(),
    ...(handoff === undefined ? {} : { handoff }),
  });
}

test('handoff: a filer moved to a new server keeps handles, write verifier and duplicate-request replies', async () => {
  // Goal: steps 3-6 of a planned takeover lose nothing a client would notice.
  const scratch = scratchDirectory('handoff');
  const directory = path.join(scratch.path, 'vol');
  await createVolume(directory, { name: 'moved' });
  let first: FileServer | undefined = await startFiler(directory, 0);
  let second: FileServer | undefined;
  try {
    const port = first.port;
    const client = await NfsClient.connect(port);
    const root = await client.mountRoot('/moved');
    const file = await client.createFile(root, 'data.bin');
    const written = await client.write(file, 0n, Buffer.from('before the move'), UNSTABLE);
    const verifierBefore = Buffer.from(written.resok!.verf);
    // A non-idempotent call answered by the first server, with an xid the client will reuse.
    const create = encodeCall({
      program: NFS_PROGRAM,
      version: NFS_VERSION,
      procedure: NFSPROC3.CREATE,
      xid: nextXid(),
      credential: ROOT,
      args: encodeNfsArgs(NFSPROC3.CREATE, new nfs.Nfsv3CreateRequest(new Nfsv3DirOpArgs(fh(root), 'once'), new Nfsv3CreateHow(1, sattr({ mode: 0o644 })))),
    });
    const original = await client.rpc.exchange(create);
    assert.equal(decodeNfsReply(NFSPROC3.CREATE, original).status, nfsstat3.NFS3_OK);

    const drained = await first.drain(DRAIN_DEADLINE_MS);
    assert.deepEqual(drained, { drained: true, inProgress: 0 });
    const handoff = JSON.parse(JSON.stringify(first.handoff())) as ReturnType<FileServer['handoff']>;
    assert.ok(handoff.duplicateRequests.length >= 1, 'the CREATE reply is in the hand-off');
    assert.deepEqual(handoff.mounts, [{ host: '127.0.0.1', path: '/moved' }]);
    await first.stop({ reset: true });
    first = undefined;
    await client.close();

    second = await startFiler(directory, port, handoff);
    const after = await NfsClient.connect(port);
    try {
      const replayed = await after.rpc.exchange(create);
      assert.deepEqual(replayed, original, 'the retransmitted CREATE gets the original reply, not NFS3ERR_EXIST');
      const read = await after.read(file, 0n, 64);
      assert.equal(read.status, nfsstat3.NFS3_OK, 'the old handle works on the new server');
      assert.equal(Buffer.from(read.resok!.data).toString(), 'before the move');
      const committed = await after.commit(file);
      assert.deepEqual(Buffer.from(committed.resok!.verf), verifierBefore, 'the write verifier is unchanged: nothing to resend');
    } finally {
      await after.close();
    }
  } finally {
    await first?.stop({ reset: true });
    await second?.stop();
    scratch.remove();
  }
});
