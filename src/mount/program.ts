// MOUNT version 3 (RFC 1813 Appendix I): MNT hands out an export's root file handle to
// allowed clients; DUMP, UMNT and UMNTALL keep the advisory list of mounts; EXPORT lists the
// exports and who may mount them. Layer: mount. MNT passes the export's request gate, so a
// filer being drained does not hand out handles either.

import type { XdrReader, XdrWriter } from '../xdr/index.js';
import { auth_flavor } from '../rpc/constants.js';
import { DROP, procedure, type CallContext, type Program, type ProcedureRow } from '../rpc/program.js';
import { clientRule, normalizeExportPath, type ExportTable } from '../exports/export-table.js';
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
    const export_ = exports.byPath(path);
    // Only export roots are mounted; RFC 1813 leaves subdirectory mounts to the server.
    if (export_ === undefined || normalizeExportPath(path) !== export_.path) return { status: mountstat3.MNT3ERR_NOENT };
    if (clientRule(export_, context.client.address) === undefined) {
      context.log.info({ req: context.requestId, client: context.client.address, path }, 'mount refused: client not allowed');
      return { status: mountstat3.MNT3ERR_ACCES };
    }
    mounts.add(context.client.address, export_.path);
    const volume = export_.volume;
    return {
      status: mountstat3.MNT3_OK,
      handle: volume.fileHandle(volume.rootFileId),
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
      const gate = exports.byPath(target)?.gate;
      if (gate === undefined) return { release() {} };
      return gate.tryEnter() ? { release: () => gate.leave() } : DROP;
    },
  };
}
