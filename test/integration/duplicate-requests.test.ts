// Integration: the duplicate-request cache of a real `tandem serve` process. A non-idempotent
// call retransmitted with the same xid and the same bytes, even on a new connection (a client
// that reconnected), gets its original reply byte for byte instead of running again; the same
// xid with other arguments is a new call; and an EXCLUSIVE CREATE that the cache cannot
// recognise (a new xid) still succeeds through the verifier kept with the file.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveFreshVolume, type ServedVolume } from '../support/served-volume.js';
import {
  decodeNfsReply,
  encodeCall,
  encodeNfsArgs,
  fh,
  handleOf,
  NFS_PROGRAM,
  NFS_VERSION,
  NfsClient,
  nextXid,
  ROOT,
  sattr,
  type NfsResponse,
} from '../support/rpc-client.js';
import * as nfs from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import { Nfsv3CreateHow, Nfsv3DirOpArgs } from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { NFSPROC3, nfsstat3 } from '../../src/nfs3/constants.js';

let served: ServedVolume;
let client: NfsClient;
let root: Buffer;

before(async () => {
  served = await serveFreshVolume('drc');
  ({ client, root } = served);
});

after(() => served?.stop());

/** A whole NFS call message with a fixed xid, to be sent more than once. */
function message(procedure: number, request: nfs.Nfsv3Request, xid: number): Buffer {
  const args = encodeNfsArgs(procedure, request);
  return encodeCall({ program: NFS_PROGRAM, version: NFS_VERSION, procedure, xid, credential: ROOT, args });
}

/** Sends `call` on a fresh connection and closes it: a client that reconnected. */
async function onNewConnection(call: Buffer): Promise<Buffer> {
  const fresh = await NfsClient.connect(served.server.port);
  try {
    return await fresh.rpc.exchange(call);
  } finally {
    await fresh.close();
  }
}

/**
 * Sends `request` on the shared connection, then the same bytes on a new connection; checks the
 * first reply's status and that the second is byte-identical; returns the decoded first reply.
 */
async function retransmitted(procedure: number, request: nfs.Nfsv3Request): Promise<NfsResponse> {
  const call = message(procedure, request, nextXid());
  const original = await client.rpc.exchange(call);
  const decoded = decodeNfsReply(procedure, original);
  assert.equal(decoded.status, nfsstat3.NFS3_OK, 'the original call succeeds');
  const replayed = await onNewConnection(call);
  assert.deepEqual(replayed, original, 'the retransmission gets the original reply, byte for byte');
  return decoded;
}

function where(dir: Uint8Array, name: string): Nfsv3DirOpArgs {
  return new Nfsv3DirOpArgs(fh(dir), name);
}

test('drc: a GUARDED CREATE retransmitted on a new connection gets the original reply, not NFS3ERR_EXIST', async () => {
  // Goal: a retransmitted GUARDED CREATE is answered from the DRC, not run again into EXIST.
  const request = new nfs.Nfsv3CreateRequest(where(root, 'guarded'), new Nfsv3CreateHow(1, sattr({ mode: 0o644 })));
  const created = (await retransmitted(NFSPROC3.CREATE, request)) as nfs.Nfsv3CreateResponse;
  assert.deepEqual(await client.handleOf(root, 'guarded'), handleOf(created.resok?.obj));
  // What running it again would have answered:
  assert.equal((await client.create(root, 'guarded')).status, nfsstat3.NFS3ERR_EXIST);
});

test('drc: a REMOVE retransmitted on a new connection gets the original reply, not NFS3ERR_NOENT', async () => {
  // Goal: a retransmitted REMOVE is answered from the DRC, not run again into NOENT.
  await client.createFile(root, 'to-remove');
  await retransmitted(NFSPROC3.REMOVE, new nfs.Nfsv3RemoveRequest(where(root, 'to-remove')));
  assert.equal((await client.lookup(root, 'to-remove')).status, nfsstat3.NFS3ERR_NOENT);
});

test('drc: a RENAME retransmitted on a new connection gets the original reply, not NFS3ERR_NOENT', async () => {
  // Goal: a retransmitted RENAME is answered from the DRC, not run again into NOENT.
  const file = await client.createFile(root, 'rename-from');
  await retransmitted(NFSPROC3.RENAME, new nfs.Nfsv3RenameRequest(where(root, 'rename-from'), where(root, 'rename-to')));
  assert.equal((await client.lookup(root, 'rename-from')).status, nfsstat3.NFS3ERR_NOENT);
  assert.deepEqual(await client.handleOf(root, 'rename-to'), file);
});

test('drc: a MKDIR retransmitted on a new connection gets the original reply, not NFS3ERR_EXIST', async () => {
  // Goal: a retransmitted MKDIR is answered from the DRC, not run again into EXIST.
  await retransmitted(NFSPROC3.MKDIR, new nfs.Nfsv3MkdirRequest(where(root, 'made-dir'), sattr({ mode: 0o755 })));
  assert.equal((await client.lookup(root, 'made-dir')).status, nfsstat3.NFS3_OK);
});

test('drc: an RMDIR retransmitted on a new connection gets the original reply, not NFS3ERR_NOENT', async () => {
  // Goal: a retransmitted RMDIR is answered from the DRC, not run again into NOENT.
  await client.makeDirectory(root, 'to-rmdir');
  await retransmitted(NFSPROC3.RMDIR, new nfs.Nfsv3RmdirRequest(where(root, 'to-rmdir')));
  assert.equal((await client.lookup(root, 'to-rmdir')).status, nfsstat3.NFS3ERR_NOENT);
});

test('drc: a LINK retransmitted on a new connection gets the original reply, not NFS3ERR_EXIST, and links once', async () => {
  // Goal: a retransmitted LINK is answered from the DRC, not run again into EXIST or a second link.
  const file = await client.createFile(root, 'link-target');
  await retransmitted(NFSPROC3.LINK, new nfs.Nfsv3LinkRequest(fh(file), where(root, 'link-name')));
  assert.equal((await client.getattr(file)).resok!.objAttributes.nlink, 2);
});

test('drc: a SYMLINK retransmitted on a new connection gets the original reply, not NFS3ERR_EXIST', async () => {
  // Goal: a retransmitted SYMLINK is answered from the DRC, not run again into EXIST.
  await retransmitted(NFSPROC3.SYMLINK, new nfs.Nfsv3SymlinkRequest(where(root, 'symlink'), sattr(), 'link-target'));
  const link = await client.handleOf(root, 'symlink');
  assert.equal((await client.readlink(link)).resok!.data, 'link-target');
});

test('drc: the same xid with different arguments is executed as a new call', async () => {
  // Goal: the DRC key includes the arguments: an xid reused for another call does not replay.
  const xid = nextXid();
  const guarded = (name: string) => new nfs.Nfsv3CreateRequest(where(root, name), new Nfsv3CreateHow(1, sattr()));
  const first = decodeNfsReply(NFSPROC3.CREATE, await client.rpc.exchange(message(NFSPROC3.CREATE, guarded('same-xid-a'), xid)));
  assert.equal(first.status, nfsstat3.NFS3_OK);
  const second = decodeNfsReply(NFSPROC3.CREATE, await onNewConnection(message(NFSPROC3.CREATE, guarded('same-xid-b'), xid)));
  assert.equal(second.status, nfsstat3.NFS3_OK);
  const a = await client.handleOf(root, 'same-xid-a');
  const b = await client.handleOf(root, 'same-xid-b');
  assert.notDeepEqual(a, b);
  assert.deepEqual(handleOf((second as nfs.Nfsv3CreateResponse).resok?.obj), b);
});

test('drc: an EXCLUSIVE CREATE retransmitted with a new xid and the same verifier succeeds with the same handle', async () => {
  // Goal: RFC 1813 3.3.8: the verifier kept with the file makes an exclusive create idempotent.
  const verifier = Buffer.from('tandem!!');
  const first = await client.create(root, 'exclusive', { mode: 'exclusive', verifier });
  assert.equal(first.status, nfsstat3.NFS3_OK);
  const again = await client.create(root, 'exclusive', { mode: 'exclusive', verifier });
  assert.equal(again.status, nfsstat3.NFS3_OK);
  assert.deepEqual(handleOf(again.resok?.obj), handleOf(first.resok?.obj));
  // Another client's exclusive create of the same name fails.
  const other = await client.create(root, 'exclusive', { mode: 'exclusive', verifier: Buffer.from('other!!!') });
  assert.equal(other.status, nfsstat3.NFS3ERR_EXIST);
});
