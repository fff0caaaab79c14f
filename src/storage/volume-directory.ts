// The on-disk layout of a volume, and how one is created and opened. A volume directory is
// self-contained, so a partner node can open it instead of its owner (takeover): nothing in it
// names a node, a process or a boot.
//
//   volume.json      identity: format version, id (16 random bytes), name, fsid (fixed)
//   handle-key       32 random bytes (mode 0600) keying file-handle tags and cookie verifiers
//   metadata.sqlite  the metadata store (plus its -wal and -shm files)
//   data/00 .. ff/   file contents (file-data.ts)
//
// volume.json is written last, atomically: a directory without it is not a volume. Other
// layers may keep their own files here (the mailbox, hand-off state); they are left alone.
// `openVolume` (volume.ts) builds the volume on what `openVolumeDirectory` opens.

import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { FileData, syncFolder } from './file-data.js';
import { FileHandles, HANDLE_KEY_BYTES, VOLUME_ID_BYTES } from './file-handles.js';
import {
  META_KEYS,
  METADATA_SCHEMA_VERSION,
  MetadataStore,
  VOLUME_STATE_CLEAN,
  VOLUME_STATE_OPEN,
} from './metadata-store.js';
import { systemNow } from './system-clock.js';
import { StorageError, type VolumeIdentity } from './types.js';

/** The layout version this code reads and writes. */
export const VOLUME_FORMAT_VERSION = 1;
export const IDENTITY_FILE = 'volume.json';
export const HANDLE_KEY_FILE = 'handle-key';
export const METADATA_FILE = 'metadata.sqlite';
export const DATA_FOLDER = 'data';
const WRITE_VERIFIER_BYTES = 8;
const VOLUME_NAME_BYTES_MAX = 255;
const ROOT_MODE = 0o755;

interface IdentityFile {
  readonly format: number;
  readonly id: string;
  readonly name: string;
  readonly fsid: string;
}

/** A 64-bit fsid derived from the volume id: fixed at creation, the same on every node. */
export function fsidOf(id: Buffer): bigint {
  return createHash('sha256').update('tandem fsid').update(id).digest().readBigUInt64BE(0);
}

/**
 * Creates a volume in `dir` (made if missing). Refuses a directory that already holds a volume
 * ('exists') or anything else ('invalid').
 */
export async function createVolume(dir: string, options: { name?: string } = {}): Promise<VolumeIdentity> {
  const directory = resolve(dir);
  const name = options.name ?? basename(directory);
  if (name.length === 0 || Buffer.byteLength(name) > VOLUME_NAME_BYTES_MAX) {
    throw new StorageError('invalid', `volume name ${JSON.stringify(name)}: 1 to ${VOLUME_NAME_BYTES_MAX} bytes`);
  }
  await prepareEmptyDirectory(directory);
  const id = randomBytes(VOLUME_ID_BYTES);
  const identity: VolumeIdentity = { id, name, fsid: fsidOf(id) };
  writeNewFile(join(directory, HANDLE_KEY_FILE), randomBytes(HANDLE_KEY_BYTES), 0o600);
  FileData.createLayout(join(directory, DATA_FOLDER));
  createMetadata(join(directory, METADATA_FILE), id);
  const file: IdentityFile = {
    format: VOLUME_FORMAT_VERSION,
    id: id.toString('hex'),
    name,
    fsid: identity.fsid.toString(),
  };
  const temporary = join(directory, `${IDENTITY_FILE}.new`);
  writeNewFile(temporary, Buffer.from(`${JSON.stringify(file, null, 2)}\n`), 0o644);
  fs.renameSync(temporary, join(directory, IDENTITY_FILE));
  syncFolder(directory);
  return identity;
}

/** What an open volume directory holds, for the volume built on it. */
export interface OpenedVolumeDirectory {
  readonly identity: VolumeIdentity;
  readonly rootFileId: bigint;
  readonly writeVerifier: Buffer;
  /** The volume directory, resolved. */
  readonly directory: string;
  readonly store: MetadataStore;
  readonly handles: FileHandles;
  /** The folder of the data files (file-data.ts); the volume opens them. */
  readonly dataFolder: string;
}

/**
 * Opens the volume directory `dir`. Marks it open durably; if it was not closed cleanly (a
 * crash: acknowledged unstable data may be lost) it gets a new write verifier, otherwise it
 * keeps the old one, so a clean restart or a handover is invisible to clients (RFC 1813 3.3.7).
 */
export async function openVolumeDirectory(dir: string): Promise<OpenedVolumeDirectory> {
  const directory = resolve(dir);
  const identity = await readIdentity(directory);
  const key = await readHandleKey(directory);
  let store: MetadataStore;
  try {
    store = MetadataStore.open(join(directory, METADATA_FILE), { create: false });
  } catch (error) {
    throw new StorageError('invalid', `${directory}: cannot open the metadata store: ${String(error)}`);
  }
  try {
    checkMetadata(store, directory, identity);
    const rootFileId = readRootFileId(store, directory);
    const writeVerifier = takeWriteVerifier(store);
    const handles = new FileHandles(identity.id, key, (fileid) => store.generation(fileid));
    const dataFolder = join(directory, DATA_FOLDER);
    return { identity, rootFileId, writeVerifier, directory, store, handles, dataFolder };
  } catch (error) {
    store.close();
    throw error;
  }
}

async function prepareEmptyDirectory(directory: string): Promise<void> {
  let names: string[];
  try {
    names = await fs.promises.readdir(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR') throw new StorageError('invalid', `${directory} is not a directory`);
    if (code !== 'ENOENT') throw error;
    await fs.promises.mkdir(directory, { recursive: true });
    return;
  }
  if (names.includes(IDENTITY_FILE)) throw new StorageError('exists', `${directory} already holds a volume`);
  if (names.length > 0) {
    throw new StorageError('invalid', `${directory} is not empty and holds no volume: refusing to create one there`);
  }
}

/** Writes a file that must not exist yet, and makes its contents stable. */
function writeNewFile(path: string, contents: Buffer, mode: number): void {
  const fd = fs.openSync(path, 'wx', mode);
  try {
    fs.writeSync(fd, contents);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function createMetadata(path: string, id: Buffer): void {
  const store = MetadataStore.open(path, { create: true });
  try {
    store.transaction(() => {
      const now = systemNow();
      const rootFileId = store.insertInode({
        generation: randomBytes(4).readUInt32BE(0),
        type: 'dir',
        mode: ROOT_MODE,
        nlink: 2,
        uid: 0,
        gid: 0,
        size: 4096n,
        rdev: { major: 0, minor: 0 },
        atime: now,
        mtime: now,
        ctime: now,
        parent: null,
        target: null,
        verifier: null,
      });
      const root = store.inode(rootFileId);
      if (root === undefined) throw new Error('volume: the root inode vanished');
      // The root's parent is the root.
      store.updateInode({ ...root, parent: rootFileId });
      store.setMeta(META_KEYS.schemaVersion, Buffer.from(String(METADATA_SCHEMA_VERSION)));
      store.setMeta(META_KEYS.volumeId, id);
      store.setMeta(META_KEYS.rootFileId, Buffer.from(rootFileId.toString()));
      store.setMeta(META_KEYS.writeVerifier, randomBytes(WRITE_VERIFIER_BYTES));
      store.setMeta(META_KEYS.state, Buffer.from(VOLUME_STATE_CLEAN));
    });
  } finally {
    store.close();
  }
}

async function readIdentity(directory: string): Promise<VolumeIdentity> {
  let text: string;
  try {
    text = await fs.promises.readFile(join(directory, IDENTITY_FILE), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new StorageError('invalid', `${directory} is not a volume (it has no ${IDENTITY_FILE})`);
    }
    throw error;
  }
  let file: Partial<IdentityFile>;
  try {
    file = JSON.parse(text) as Partial<IdentityFile>;
  } catch {
    throw new StorageError('invalid', `${directory}: ${IDENTITY_FILE} is not JSON`);
  }
  if (file.format !== VOLUME_FORMAT_VERSION) {
    throw new StorageError(
      'not-supported',
      `${directory}: volume format ${JSON.stringify(file.format)} is not the supported format ${VOLUME_FORMAT_VERSION}`,
    );
  }
  const valid =
    typeof file.id === 'string' &&
    /^[0-9a-f]{32}$/.test(file.id) &&
    typeof file.name === 'string' &&
    typeof file.fsid === 'string' &&
    /^[0-9]{1,20}$/.test(file.fsid);
  if (!valid || file.id === undefined || file.name === undefined || file.fsid === undefined) {
    throw new StorageError('invalid', `${directory}: ${IDENTITY_FILE} lacks a valid id, name or fsid`);
  }
  return { id: Buffer.from(file.id, 'hex'), name: file.name, fsid: BigInt(file.fsid) };
}

async function readHandleKey(directory: string): Promise<Buffer> {
  let key: Buffer;
  try {
    key = await fs.promises.readFile(join(directory, HANDLE_KEY_FILE));
  } catch (error) {
    throw new StorageError('invalid', `${directory}: cannot read ${HANDLE_KEY_FILE}: ${String(error)}`);
  }
  if (key.length !== HANDLE_KEY_BYTES) {
    throw new StorageError('invalid', `${directory}: ${HANDLE_KEY_FILE} has ${key.length} bytes, not ${HANDLE_KEY_BYTES}`);
  }
  return key;
}

function checkMetadata(store: MetadataStore, directory: string, identity: VolumeIdentity): void {
  const schema = store.meta(META_KEYS.schemaVersion)?.toString();
  if (schema !== String(METADATA_SCHEMA_VERSION)) {
    throw new StorageError('not-supported', `${directory}: metadata schema ${String(schema)} is not supported`);
  }
  if (store.meta(META_KEYS.volumeId)?.equals(identity.id) !== true) {
    throw new StorageError('invalid', `${directory}: the metadata store belongs to another volume`);
  }
}

function readRootFileId(store: MetadataStore, directory: string): bigint {
  const text = store.meta(META_KEYS.rootFileId)?.toString() ?? '';
  if (!/^[0-9]+$/.test(text)) throw new StorageError('invalid', `${directory}: no root fileid`);
  return BigInt(text);
}

/** Keeps the verifier after a clean close, replaces it after a crash; marks the volume open. */
function takeWriteVerifier(store: MetadataStore): Buffer {
  const verifier = store.transaction(() => {
    const stored = store.meta(META_KEYS.writeVerifier);
    const clean = store.meta(META_KEYS.state)?.toString() === VOLUME_STATE_CLEAN;
    const verifier =
      clean && stored !== undefined && stored.length === WRITE_VERIFIER_BYTES
        ? Buffer.from(stored)
        : randomBytes(WRITE_VERIFIER_BYTES);
    store.setMeta(META_KEYS.writeVerifier, verifier);
    store.setMeta(META_KEYS.state, Buffer.from(VOLUME_STATE_OPEN));
    return verifier;
  });
  // Durable before any write is answered with it: a crash must find the volume marked open.
  store.commit();
  return verifier;
}
