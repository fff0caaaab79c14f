// A small ONC RPC client over TCP for integration tests (RFC 5531): record marking (section 11),
// call headers with AUTH_NONE, AUTH_SYS or any raw credential, replies matched by xid under a
// deadline, and raw access to the byte stream for malformed input. NFS and MOUNT arguments and
// results go through @jsonjoy.com/json-pack, a codec nobody here wrote, so the tests never
// check the server's codec against itself; only AUTH_SYS bodies use src/xdr's XdrWriter.

import net from 'node:net';
import { randomInt } from 'node:crypto';
import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import { Nfsv3Encoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Encoder.js';
import { Nfsv3Decoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/Nfsv3Decoder.js';
import * as nfs from '@jsonjoy.com/json-pack/lib/nfs/v3/messages.js';
import * as structs from '@jsonjoy.com/json-pack/lib/nfs/v3/structs.js';
import { MountEncoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/MountEncoder.js';
import { MountDecoder } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/MountDecoder.js';
import { MountMntRequest, type MountMntResponse } from '@jsonjoy.com/json-pack/lib/nfs/v3/mount/messages.js';
import { XdrWriter } from '../../src/xdr/index.js';
import { RPC_VERSION, accept_stat, auth_flavor, msg_type, reply_stat, reject_stat } from '../../src/rpc/constants.js';

/** How long a call waits for its reply unless told otherwise. */
export const CALL_DEADLINE_MS = 15_000;
const LAST_FRAGMENT = 0x8000_0000;
const FRAGMENT_LENGTH_MASK = 0x7fff_ffff;

export const NFS_PROGRAM = 100003;
export const NFS_VERSION = 3;
export const MOUNT_PROGRAM = 100005;
export const MOUNT_VERSION = 3;
export const MOUNTPROC3_MNT = 1;

export interface AuthSys {
  readonly uid: number;
  readonly gid: number;
  readonly gids: readonly number[];
  readonly machineName?: string;
  readonly stamp?: number;
}
/** Any credential, as sent: for flavors and bodies the server must refuse. */
export interface RawCredential {
  readonly flavor: number;
  readonly body: Uint8Array;
}
export type CallCredential = AuthSys | RawCredential | 'none';

export interface CallOptions {
  readonly program: number;
  readonly version: number;
  readonly procedure: number;
  readonly xid?: number;
  readonly credential?: CallCredential;
  readonly args: Uint8Array;
  readonly deadlineMs?: number;
}

export const ROOT: AuthSys = { uid: 0, gid: 0, gids: [] };

/** A fresh random xid. */
export function nextXid(): number {
  return randomInt(1, 0xffff_ffff);
}

/** Rejects with a message naming `what` unless `promise` settles within `deadlineMs`. */
export function withDeadline<T>(promise: Promise<T>, deadlineMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what}: nothing within ${deadlineMs} ms`)), deadlineMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** RFC 5531 14: authsys_parms. Writes as many gids as given (more than 16 for bad input). */
export function authSysBody(credential: AuthSys): Buffer {
  const writer = new XdrWriter(64)
    .uint32(credential.stamp ?? 0)
    .string(credential.machineName ?? 'tandem-test')
    .uint32(credential.uid)
    .uint32(credential.gid)
    .uint32(credential.gids.length);
  for (const gid of credential.gids) writer.uint32(gid);
  return writer.toBuffer();
}

function credentialParts(credential: CallCredential): { flavor: number; body: Uint8Array } {
  if (credential === 'none') return { flavor: auth_flavor.AUTH_NONE, body: new Uint8Array(0) };
  if ('flavor' in credential) return credential;
  return { flavor: auth_flavor.AUTH_SYS, body: authSysBody(credential) };
}

/** RFC 5531 9: a whole call message (no record marker), with a null verifier. */
export function encodeCall(options: CallOptions & { readonly xid: number }): Buffer {
  const { flavor, body } = credentialParts(options.credential ?? 'none');
  return new XdrWriter(128 + options.args.length)
    .uint32(options.xid)
    .uint32(msg_type.CALL)
    .uint32(RPC_VERSION)
    .uint32(options.program)
    .uint32(options.version)
    .uint32(options.procedure)
    .uint32(flavor)
    .opaque(body)
    .uint32(auth_flavor.AUTH_NONE)
    .uint32(0)
    .fixedOpaque(options.args)
    .toBuffer();
}

/** A message as one last fragment (RFC 5531 11). */
export function recordOf(message: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE((LAST_FRAGMENT | message.length) >>> 0, 0);
  return Buffer.concat([header, message]);
}

/** The reply header (RFC 5531 9) read field by field, and where the result body starts. */
export type ReplyHeader =
  | { readonly xid: number; readonly kind: 'accepted'; readonly acceptStat: number; readonly bodyOffset: number }
  | { readonly xid: number; readonly kind: 'rpc-mismatch'; readonly low: number; readonly high: number }
  | { readonly xid: number; readonly kind: 'auth-error'; readonly authStat: number };

export function parseReply(reply: Buffer): ReplyHeader {
  const xid = reply.readUInt32BE(0);
  if (reply.readUInt32BE(4) !== msg_type.REPLY) throw new Error(`xid ${xid}: not a REPLY`);
  const stat = reply.readUInt32BE(8);
  if (stat === reply_stat.MSG_DENIED) {
    const reject = reply.readUInt32BE(12);
    if (reject === reject_stat.RPC_MISMATCH) {
      return { xid, kind: 'rpc-mismatch', low: reply.readUInt32BE(16), high: reply.readUInt32BE(20) };
    }
    if (reject === reject_stat.AUTH_ERROR) return { xid, kind: 'auth-error', authStat: reply.readUInt32BE(16) };
    throw new Error(`xid ${xid}: reject_stat ${reject}`);
  }
  if (stat !== reply_stat.MSG_ACCEPTED) throw new Error(`xid ${xid}: reply_stat ${stat}`);
  const verifierBytes = reply.readUInt32BE(16);
  const at = 20 + verifierBytes + ((4 - (verifierBytes % 4)) % 4);
  return { xid, kind: 'accepted', acceptStat: reply.readUInt32BE(at), bodyOffset: at + 4 };
}

/** The result body of an accepted, successful reply; throws with the header otherwise. */
export function successBody(reply: Buffer): Buffer {
  const header = parseReply(reply);
  if (header.kind !== 'accepted' || header.acceptStat !== accept_stat.SUCCESS) {
    throw new Error(`call not executed: ${JSON.stringify(header)}`);
  }
  return reply.subarray(header.bodyOffset);
}

/** Splits a byte stream into records; independent of the server's record-marking code. */
class RecordSplitter {
  #chunks: Buffer[] = [];
  #bytes = 0;
  #fragments: Buffer[] = [];

  push(chunk: Buffer): Buffer[] {
    this.#chunks.push(chunk);
    this.#bytes += chunk.length;
    const records: Buffer[] = [];
    while (this.#bytes >= 4) {
      const header = this.#peekHeader();
      const length = header & FRAGMENT_LENGTH_MASK;
      if (this.#bytes < 4 + length) break;
      this.#fragments.push(this.#take(4 + length).subarray(4));
      if ((header & LAST_FRAGMENT) !== 0) {
        records.push(Buffer.concat(this.#fragments));
        this.#fragments = [];
      }
    }
    return records;
  }

  #peekHeader(): number {
    if (this.#chunks[0]!.length < 4) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!.readUInt32BE(0);
  }

  #take(bytes: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks);
    this.#chunks = all.length > bytes ? [all.subarray(bytes)] : [];
    this.#bytes -= bytes;
    return all.subarray(0, bytes);
  }
}

interface Waiter {
  resolve(record: Buffer): void;
  reject(error: Error): void;
}

export class RpcClient {
  /** Resolves when the connection is closed, by either side. */
  readonly closed: Promise<void>;
  readonly #socket: net.Socket;
  readonly #splitter = new RecordSplitter();
  readonly #calls = new Map<number, Waiter>();
  readonly #unmatched: Buffer[] = [];
  readonly #recordWaiters: Waiter[] = [];
  #isClosed = false;

  private constructor(socket: net.Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      for (const record of this.#splitter.push(chunk)) this.#onRecord(record);
    });
    socket.on('error', () => {});
    this.closed = new Promise((resolve) => {
      socket.once('close', () => {
        this.#isClosed = true;
        const error = new Error('connection closed');
        for (const waiter of this.#calls.values()) waiter.reject(error);
        this.#calls.clear();
        for (const waiter of this.#recordWaiters.splice(0)) waiter.reject(error);
        resolve();
      });
    });
  }

  static connect(host: string, port: number, options: { localAddress?: string; deadlineMs?: number } = {}): Promise<RpcClient> {
    const socket = net.connect({ host, port, ...(options.localAddress === undefined ? {} : { localAddress: options.localAddress }) });
    const connected = new Promise<RpcClient>((resolve, reject) => {
      socket.once('connect', () => resolve(new RpcClient(socket)));
      socket.once('error', reject);
    });
    return withDeadline(connected, options.deadlineMs ?? CALL_DEADLINE_MS, `connect to ${host}:${port}`);
  }

  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Sends one call and resolves with the whole reply message (no record marker). */
  call(options: CallOptions): Promise<Buffer> {
    return this.exchange(encodeCall({ ...options, xid: options.xid ?? nextXid() }), options.deadlineMs);
  }

  /** Sends a whole call message (its first word is the xid) and waits for the reply to it. */
  exchange(message: Buffer, deadlineMs = CALL_DEADLINE_MS): Promise<Buffer> {
    const xid = message.readUInt32BE(0);
    if (this.#isClosed) return Promise.reject(new Error(`xid ${xid}: connection closed`));
    if (this.#calls.has(xid)) return Promise.reject(new Error(`xid ${xid} is already waiting for a reply`));
    const reply = new Promise<Buffer>((resolve, reject) => this.#calls.set(xid, { resolve, reject }));
    this.sendRaw(recordOf(message));
    return withDeadline(reply, deadlineMs, `reply to xid ${xid}`).finally(() => this.#calls.delete(xid));
  }

  /** Writes bytes as they are: no record marking. */
  sendRaw(bytes: Uint8Array): void {
    this.#socket.write(bytes);
  }

  /** The next record no call is waiting for (replies to raw sends). */
  nextRecord(deadlineMs = CALL_DEADLINE_MS): Promise<Buffer> {
    const queued = this.#unmatched.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#isClosed) return Promise.reject(new Error('connection closed'));
    let waiter: Waiter | undefined;
    const next = new Promise<Buffer>((resolve, reject) => {
      waiter = { resolve, reject };
      this.#recordWaiters.push(waiter);
    });
    return withDeadline(next, deadlineMs, 'next record').finally(() => {
      const at = this.#recordWaiters.indexOf(waiter!);
      if (at >= 0) this.#recordWaiters.splice(at, 1);
    });
  }

  /** Ends the connection and waits for it to close. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    this.#socket.end();
    const timer = setTimeout(() => this.#socket.destroy(), 5_000);
    await this.closed;
    clearTimeout(timer);
  }

  #onRecord(record: Buffer): void {
    const waiter = record.length >= 4 ? this.#calls.get(record.readUInt32BE(0)) : undefined;
    if (waiter !== undefined) {
      this.#calls.delete(record.readUInt32BE(0));
      waiter.resolve(record);
      return;
    }
    const next = this.#recordWaiters.shift();
    if (next !== undefined) next.resolve(record);
    else this.#unmatched.push(record);
  }
}

// ---------------------------------------------------------------------------------------------
// NFS version 3 and MOUNT version 3 through json-pack.

export type NfsResponse = nfs.Nfsv3Response;
export type StableHow = 0 | 1 | 2;
export const UNSTABLE: StableHow = 0;
export const FILE_SYNC: StableHow = 2;

export interface SetAttributes {
  readonly mode?: number;
  readonly uid?: number;
  readonly gid?: number;
  readonly size?: bigint;
}

export type CreateHow =
  | { readonly mode: 'unchecked' | 'guarded'; readonly attributes?: SetAttributes }
  | { readonly mode: 'exclusive'; readonly verifier: Uint8Array };

/** The json-pack file handle of a handle's bytes. */
export function fh(handle: Uint8Array): structs.Nfsv3Fh {
  return new structs.Nfsv3Fh(handle);
}

/** sattr3 with the given attributes set and the times left alone. */
export function sattr(attributes: SetAttributes = {}): structs.Nfsv3Sattr {
  return new structs.Nfsv3Sattr(
    new structs.Nfsv3SetMode(attributes.mode !== undefined, attributes.mode),
    new structs.Nfsv3SetUid(attributes.uid !== undefined, attributes.uid),
    new structs.Nfsv3SetGid(attributes.gid !== undefined, attributes.gid),
    new structs.Nfsv3SetSize(attributes.size !== undefined, attributes.size),
    new structs.Nfsv3SetAtime(0),
    new structs.Nfsv3SetMtime(0),
  );
}

function createHow(how: CreateHow): structs.Nfsv3CreateHow {
  if (how.mode === 'exclusive') return new structs.Nfsv3CreateHow(2, undefined, how.verifier);
  return new structs.Nfsv3CreateHow(how.mode === 'guarded' ? 1 : 0, sattr(how.attributes ?? {}));
}

/** The XDR of NFS arguments (a json-pack request object). */
export function encodeNfsArgs(procedure: number, request: nfs.Nfsv3Request): Buffer {
  // encodeMessage returns a view of the encoder's reusable buffer: copy it.
  return Buffer.from(new Nfsv3Encoder().encodeMessage(request, procedure as never, true));
}

/** The decoded result of a successful NFS reply; every byte of the body must be consumed. */
export function decodeNfsReply(procedure: number, reply: Buffer): NfsResponse {
  const body = successBody(reply);
  const reader = new Reader(body);
  const decoded = new Nfsv3Decoder().decodeMessage(reader, procedure as never, false);
  if (decoded === undefined) throw new Error(`NFS procedure ${procedure}: truncated result`);
  if (reader.x !== body.length) throw new Error(`NFS procedure ${procedure}: ${body.length - reader.x} trailing bytes in the result`);
  return decoded as NfsResponse;
}

/** A handle's bytes out of a json-pack post_op_fh3, or undefined when none follows. */
export function handleOf(obj: structs.Nfsv3PostOpFh | undefined): Buffer | undefined {
  return obj?.handleFollows === true && obj.handle !== undefined ? Buffer.from(obj.handle.data) : undefined;
}

/** An NFS client on one connection, calling with one credential (`as` gives another). */
export class NfsClient {
  readonly rpc: RpcClient;
  readonly credential: CallCredential;

  constructor(rpc: RpcClient, credential: CallCredential = ROOT) {
    this.rpc = rpc;
    this.credential = credential;
  }

  static async connect(
    port: number,
    options: { host?: string; localAddress?: string; credential?: CallCredential } = {},
  ): Promise<NfsClient> {
    const from = options.localAddress === undefined ? {} : { localAddress: options.localAddress };
    const rpc = await RpcClient.connect(options.host ?? '127.0.0.1', port, from);
    return new NfsClient(rpc, options.credential ?? ROOT);
  }

  /** The same connection with another credential. */
  as(credential: CallCredential): NfsClient {
    return new NfsClient(this.rpc, credential);
  }

  close(): Promise<void> {
    return this.rpc.close();
  }

  /** NFS NULL: resolves when the server answers it with an empty success. */
  async null(): Promise<void> {
    const call = { program: NFS_PROGRAM, version: NFS_VERSION, procedure: 0, credential: this.credential, args: new Uint8Array(0) };
    const body = successBody(await this.rpc.call(call));
    if (body.length !== 0) throw new Error(`NULL: ${body.length} bytes of result`);
  }

  /** MOUNT MNT of an export path: the status and, on MNT3_OK, the root handle. */
  async mount(path: string): Promise<{ status: number; handle?: Buffer }> {
    const args = Buffer.from(new MountEncoder().encodeMessage(new MountMntRequest(path), MOUNTPROC3_MNT as never, true));
    const call = { program: MOUNT_PROGRAM, version: MOUNT_VERSION, procedure: MOUNTPROC3_MNT, credential: this.credential, args };
    const body = successBody(await this.rpc.call(call));
    const decoded = new MountDecoder().decodeMessage(new Reader(body), MOUNTPROC3_MNT as never, false) as MountMntResponse | undefined;
    if (decoded === undefined) throw new Error('MNT: truncated result');
    const handle = decoded.mountinfo?.fhandle.data.uint8;
    return handle === undefined ? { status: decoded.status } : { status: decoded.status, handle: Buffer.from(handle) };
  }

  /** The root handle of an export; throws unless MNT3_OK. */
  async mountRoot(path: string): Promise<Buffer> {
    const { status, handle } = await this.mount(path);
    if (handle === undefined) throw new Error(`MNT ${path}: status ${status}`);
    return handle;
  }

  /** One NFS call with a json-pack request; resolves with the decoded result. */
  async call<R extends NfsResponse>(procedure: number, request: nfs.Nfsv3Request, xid?: number): Promise<R> {
    const reply = await this.rpc.call({
      program: NFS_PROGRAM,
      version: NFS_VERSION,
      procedure,
      credential: this.credential,
      args: encodeNfsArgs(procedure, request),
      ...(xid === undefined ? {} : { xid }),
    });
    return decodeNfsReply(procedure, reply) as R;
  }

  getattr(handle: Uint8Array): Promise<nfs.Nfsv3GetattrResponse> {
    return this.call(1, new nfs.Nfsv3GetattrRequest(fh(handle)));
  }

  setattr(handle: Uint8Array, attributes: SetAttributes): Promise<nfs.Nfsv3SetattrResponse> {
    return this.call(2, new nfs.Nfsv3SetattrRequest(fh(handle), sattr(attributes), new structs.Nfsv3SattrGuard(false)));
  }

  /** SETATTR guarded by a ctime (RFC 1813 3.3.2: NFS3ERR_NOT_SYNC unless it is the object's). */
  setattrGuarded(handle: Uint8Array, attributes: SetAttributes, ctime: { seconds: number; nseconds: number }): Promise<nfs.Nfsv3SetattrResponse> {
    const guard = new structs.Nfsv3SattrGuard(true, new structs.Nfsv3Time(ctime.seconds, ctime.nseconds));
    return this.call(2, new nfs.Nfsv3SetattrRequest(fh(handle), sattr(attributes), guard));
  }

  lookup(dir: Uint8Array, name: string): Promise<nfs.Nfsv3LookupResponse> {
    return this.call(3, new nfs.Nfsv3LookupRequest(new structs.Nfsv3DirOpArgs(fh(dir), name)));
  }

  access(handle: Uint8Array, bits: number): Promise<nfs.Nfsv3AccessResponse> {
    return this.call(4, new nfs.Nfsv3AccessRequest(fh(handle), bits));
  }

  readlink(handle: Uint8Array): Promise<nfs.Nfsv3ReadlinkResponse> {
    return this.call(5, new nfs.Nfsv3ReadlinkRequest(fh(handle)));
  }

  read(handle: Uint8Array, offset: bigint, count: number): Promise<nfs.Nfsv3ReadResponse> {
    return this.call(6, new nfs.Nfsv3ReadRequest(fh(handle), offset, count));
  }

  /** WRITE of `data`; `count` defaults to its length (a different count is bad input). */
  write(
    handle: Uint8Array,
    offset: bigint,
    data: Uint8Array,
    stable: StableHow = FILE_SYNC,
    count = data.length,
  ): Promise<nfs.Nfsv3WriteResponse> {
    return this.call(7, new nfs.Nfsv3WriteRequest(fh(handle), offset, count, stable, data));
  }

  create(dir: Uint8Array, name: string, how: CreateHow = { mode: 'guarded' }): Promise<nfs.Nfsv3CreateResponse> {
    return this.call(8, new nfs.Nfsv3CreateRequest(new structs.Nfsv3DirOpArgs(fh(dir), name), createHow(how)));
  }

  mkdir(dir: Uint8Array, name: string, attributes: SetAttributes = {}): Promise<nfs.Nfsv3MkdirResponse> {
    return this.call(9, new nfs.Nfsv3MkdirRequest(new structs.Nfsv3DirOpArgs(fh(dir), name), sattr(attributes)));
  }

  symlink(dir: Uint8Array, name: string, target: string): Promise<nfs.Nfsv3SymlinkResponse> {
    return this.call(10, new nfs.Nfsv3SymlinkRequest(new structs.Nfsv3DirOpArgs(fh(dir), name), sattr(), target));
  }

  /** MKNOD of a FIFO. */
  mkfifo(dir: Uint8Array, name: string): Promise<nfs.Nfsv3MknodResponse> {
    const what = new structs.Nfsv3MknodData(7, undefined, undefined, undefined, sattr({ mode: 0o644 }));
    return this.call(11, new nfs.Nfsv3MknodRequest(new structs.Nfsv3DirOpArgs(fh(dir), name), what));
  }

  /** MKNOD of any ftype3; `rdev` (major, minor) goes with CHR and BLK, `attributes` with every type that takes them. */
  mknod(
    dir: Uint8Array,
    name: string,
    type: number,
    options: { attributes?: SetAttributes; rdev?: { major: number; minor: number } } = {},
  ): Promise<nfs.Nfsv3MknodResponse> {
    const attributes = sattr(options.attributes ?? {});
    const device = new structs.Nfsv3DeviceData(attributes, new structs.Nfsv3SpecData(options.rdev?.major ?? 0, options.rdev?.minor ?? 0));
    const what = new structs.Nfsv3MknodData(
      type as structs.Nfsv3MknodData['type'],
      type === 4 ? device : undefined,
      type === 3 ? device : undefined,
      type === 6 ? attributes : undefined,
      type === 7 ? attributes : undefined,
    );
    return this.call(11, new nfs.Nfsv3MknodRequest(new structs.Nfsv3DirOpArgs(fh(dir), name), what));
  }

  remove(dir: Uint8Array, name: string): Promise<nfs.Nfsv3RemoveResponse> {
    return this.call(12, new nfs.Nfsv3RemoveRequest(new structs.Nfsv3DirOpArgs(fh(dir), name)));
  }

  rmdir(dir: Uint8Array, name: string): Promise<nfs.Nfsv3RmdirResponse> {
    return this.call(13, new nfs.Nfsv3RmdirRequest(new structs.Nfsv3DirOpArgs(fh(dir), name)));
  }

  rename(fromDir: Uint8Array, fromName: string, toDir: Uint8Array, toName: string): Promise<nfs.Nfsv3RenameResponse> {
    const from = new structs.Nfsv3DirOpArgs(fh(fromDir), fromName);
    return this.call(14, new nfs.Nfsv3RenameRequest(from, new structs.Nfsv3DirOpArgs(fh(toDir), toName)));
  }

  link(file: Uint8Array, dir: Uint8Array, name: string): Promise<nfs.Nfsv3LinkResponse> {
    return this.call(15, new nfs.Nfsv3LinkRequest(fh(file), new structs.Nfsv3DirOpArgs(fh(dir), name)));
  }

  readdir(dir: Uint8Array, cookie = 0n, cookieverf: Uint8Array = new Uint8Array(8), count = 65536): Promise<nfs.Nfsv3ReaddirResponse> {
    return this.call(16, new nfs.Nfsv3ReaddirRequest(fh(dir), cookie, cookieverf, count));
  }

  readdirplus(
    dir: Uint8Array,
    cookie = 0n,
    cookieverf: Uint8Array = new Uint8Array(8),
    dircount = 65536,
    maxcount = 65536,
  ): Promise<nfs.Nfsv3ReaddirplusResponse> {
    return this.call(17, new nfs.Nfsv3ReaddirplusRequest(fh(dir), cookie, cookieverf, dircount, maxcount));
  }

  fsstat(handle: Uint8Array): Promise<nfs.Nfsv3FsstatResponse> {
    return this.call(18, new nfs.Nfsv3FsstatRequest(fh(handle)));
  }

  fsinfo(handle: Uint8Array): Promise<nfs.Nfsv3FsinfoResponse> {
    return this.call(19, new nfs.Nfsv3FsinfoRequest(fh(handle)));
  }

  pathconf(handle: Uint8Array): Promise<nfs.Nfsv3PathconfResponse> {
    return this.call(20, new nfs.Nfsv3PathconfRequest(fh(handle)));
  }

  commit(handle: Uint8Array, offset = 0n, count = 0): Promise<nfs.Nfsv3CommitResponse> {
    return this.call(21, new nfs.Nfsv3CommitRequest(fh(handle), offset, count));
  }

  // Conveniences that throw unless the call succeeds.

  /** The handle of `name` in `dir`. */
  async handleOf(dir: Uint8Array, name: string): Promise<Buffer> {
    const result = await this.lookup(dir, name);
    if (result.resok === undefined) throw new Error(`LOOKUP ${JSON.stringify(name)}: status ${result.status}`);
    return Buffer.from(result.resok.object.data);
  }

  /** Creates a file (GUARDED) and returns its handle. */
  async createFile(dir: Uint8Array, name: string, attributes: SetAttributes = {}): Promise<Buffer> {
    const result = await this.create(dir, name, { mode: 'guarded', attributes });
    const handle = handleOf(result.resok?.obj);
    if (handle === undefined) throw new Error(`CREATE ${JSON.stringify(name)}: status ${result.status}`);
    return handle;
  }

  /** Makes a directory and returns its handle. */
  async makeDirectory(dir: Uint8Array, name: string, attributes: SetAttributes = {}): Promise<Buffer> {
    const result = await this.mkdir(dir, name, attributes);
    const handle = handleOf(result.resok?.obj);
    if (handle === undefined) throw new Error(`MKDIR ${JSON.stringify(name)}: status ${result.status}`);
    return handle;
  }

  /** Every entry name of a directory, by READDIR from the start to eof. */
  async list(dir: Uint8Array, count = 65536): Promise<{ name: string; cookie: bigint }[]> {
    const names: { name: string; cookie: bigint }[] = [];
    let cookie = 0n;
    let verifier: Uint8Array = new Uint8Array(8);
    for (;;) {
      const result = await this.readdir(dir, cookie, verifier, count);
      if (result.resok === undefined) throw new Error(`READDIR: status ${result.status}`);
      for (let entry = result.resok.reply.entries; entry !== undefined; entry = entry.nextentry) {
        names.push({ name: entry.name, cookie: entry.cookie });
        cookie = entry.cookie;
      }
      verifier = Buffer.from(result.resok.cookieverf);
      if (result.resok.reply.eof) return names;
    }
  }
}

/** The entries of a READDIR reply as a list. */
export function entriesOf(result: nfs.Nfsv3ReaddirResponse): { name: string; cookie: bigint; fileid: bigint }[] {
  const entries: { name: string; cookie: bigint; fileid: bigint }[] = [];
  for (let entry = result.resok?.reply.entries; entry !== undefined; entry = entry.nextentry) {
    entries.push({ name: entry.name, cookie: entry.cookie, fileid: entry.fileid });
  }
  return entries;
}
