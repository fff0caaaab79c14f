// MOUNT version 3 (RFC 1813 Appendix I): MNT hands out an export's root file handle to
// allowed clients; DUMP, UMNT and UMNTALL keep the advisory list of mounts; EXPORT lists the
// exports and who may mount them; a directory below an export's root may be mounted too.
// Layer: mount. MNT passes the export's request gate, so a
// filer being drained does not hand out handles either.

import type { XdrReader, XdrWriter } from '../xdr/index.js';
import { auth_flavor } from '../rpc/constants.js';
import { DROP, procedure, type CallContext, type Program, type ProcedureRow } from '../rpc/program.js';
import { clientRule, normalizeExportPath, type ExportTable } from '../exports/export-table.js';
import { squashCaller } from '../exports/squash.js';
import { StorageError } from '../storage/types.js';
import { MountList } from './mount-list.js';

export const MOUNT_PROGRAM = 100005;
export const MOUNT_V3 = 3;
/** RFC 1813 Appendix I: MNTPATHLEN and MNTNAMLEN. */
export const MNTPATHLEN = 1024;
export const MNTNAMLEN = 255;
export const FHSIZE3 = 64;

export const MOUNTPROC3 = { NULL: 0, MNT: 1, DUMP: 2, UMNT: 3, UMNTALL: 4, EXPORT: 5 } as const;

export const mountstat3 = {
  MNT3_OK: 0,
  MNT3ERR_PERM: 1,
  MNT3ERR_NOENT: 2,
  MNT3ERR_IO: 5,
  MNT3ERR_ACCES: 13,
  MNT3ERR_NOTDIR: 20,
  MNT3ERR_INVAL: 22,
  MNT3ERR_NAMETOOLONG: 63,
  MNT3ERR_NOTSUPP: 10004,
  MNT3ERR_SERVERFAULT: 10006,
} as const;
export type Mountstat3 = (typeof mountstat3)[keyof typeof mountstat3];

export type MountResult =
  | { readonly status: typeof mountstat3.MNT3_OK; readonly handle: Buffer; readonly authFlavors: readonly number[] }
  | { readonly status: Exclude<Mountstat3, typeof mountstat3.MNT3_OK> };

/** RFC 1813 Appendix I: the mountstat3 for a failure while walking to the mounted directory. */
function mountstatOf(error: StorageError): Exclude<Mountstat3, typeof mountstat3.MNT3_OK> {
  switch (error.code) {
    case 'not-found':
      return mountstat3.MNT3ERR_NOENT;
    case 'access':
    case 'perm':
      return mountstat3.MNT3ERR_ACCES;
    case 'not-dir':
      return mountstat3.MNT3ERR_NOTDIR;
    case 'name-too-long':
      return mountstat3.MNT3ERR_NAMETOOLONG;
    case 'invalid':
      return mountstat3.MNT3ERR_INVAL;
    default:
      return mountstat3.MNT3ERR_IO;
  }
}

function readVoid(reader: XdrReader): void {
  reader.end('void');
}

function readDirpath(reader: XdrReader): string {
  const path = reader.string(MNTPATHLEN);
  reader.end('dirpath');
  return path;
}

const writeVoid = (): void => {};

function writeMountResult(writer: XdrWriter, result: MountResult): void {
  writer.uint32(result.status);
  if (result.status !== mountstat3.MNT3_OK) return;
  writer.opaque(result.handle).uint32(result.authFlavors.length);
  for (const flavor of result.authFlavors) writer.uint32(flavor);
}

export function mountProgram(exports: ExportTable, mounts: MountList = new MountList()): Program {
  const mnt = (context: CallContext, path: string): MountResult => {
    const found = exports.containing(path);
    if (found === undefined) return { status: mountstat3.MNT3ERR_NOENT };
    const { export: export_, below } = found;
    const rule = clientRule(export_, context.client.address);
    if (rule === undefined) {
      context.log.info({ req: context.requestId, client: context.client.address, path }, 'mount refused: client not allowed');
      return { status: mountstat3.MNT3ERR_ACCES };
    }
    const volume = export_.volume;
    let fileid = volume.rootFileId;
    try {
      // A directory below an export root may be mounted too (as Linux nfsd and Ganesha allow):
      // walked with the caller's own (squashed) rights, so it sees only what it could LOOKUP.
      const caller = squashCaller(context.header.credential, rule);
      for (const name of below) {
        if (name === '..' || name === '.') return { status: mountstat3.MNT3ERR_INVAL };
        fileid = volume.lookup(caller, fileid, name);
      }
      if (volume.getattr(fileid).type !== 'dir') return { status: mountstat3.MNT3ERR_NOTDIR };
    } catch (error) {
      if (error instanceof StorageError) return { status: mountstatOf(error) };
      throw error;
    }
    mounts.add(context.client.address, normalizeExportPath(path));
    return {
      status: mountstat3.MNT3_OK,
      handle: volume.fileHandle(fileid),
      authFlavors: [auth_flavor.AUTH_SYS, auth_flavor.AUTH_NONE],
    };
  };
  const rows: ProcedureRow[] = [
    procedure({ name: 'NULL', decode: readVoid, handle: () => undefined, encode: writeVoid }),
    procedure({ name: 'MNT', decode: readDirpath, target: (path) => path, handle: mnt, encode: writeMountResult }),
    procedure({
      name: 'DUMP',
      decode: readVoid,
      handle: () => mounts.list(),
      encode: (writer, list: readonly { host: string; path: string }[]) => {
        for (const entry of list) writer.bool(true).string(entry.host).string(entry.path);
        writer.bool(false);
      },
    }),
    procedure({
      name: 'UMNT',
      decode: readDirpath,
      handle: (context, path) => mounts.remove(context.client.address, normalizeExportPath(path)),
      encode: writeVoid,
    }),
    procedure({
      name: 'UMNTALL',
      decode: readVoid,
      handle: (context) => mounts.removeHost(context.client.address),
      encode: writeVoid,
    }),
    procedure({
      name: 'EXPORT',
      decode: readVoid,
      handle: () => exports.all,
      encode: (writer, all: typeof exports.all) => {
        for (const export_ of all) {
          writer.bool(true).string(export_.path);
          for (const rule of export_.rules) writer.bool(true).string(rule.spec.replace(/\(.*$/, ''));
          writer.bool(false);
        }
        writer.bool(false);
      },
    }),
  ];
  return {
    number: MOUNT_PROGRAM,
    name: 'mount',
    versionLow: MOUNT_V3,
    versionHigh: MOUNT_V3,
    procedures: (version) => (version === MOUNT_V3 ? rows : undefined),
    admit: (_context, target) => {
      if (typeof target !== 'string') return { release() {} };
      const gate = exports.containing(target)?.export.gate;
      if (gate === undefined) return { release() {} };
      return gate.tryEnter() ? { release: () => gate.leave() } : DROP;
    },
  };
}
