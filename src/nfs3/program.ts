// The NFS version 3 program (RFC 1813): the dispatch table of its 22 procedures, in procedure
// number order, and its admission through the request gate of the addressed volume.
// Layer: nfs3.

import { DROP, procedure, type Program, type ProcedureRow } from '../rpc/program.js';
import type { ExportTable } from '../exports/export-table.js';
import { NFS_PROGRAM, NFS_V3 } from './constants.js';
import { decodeNullArgs } from './arguments.js';
import { nfsRow } from './nfs-procedure.js';
import { getattr } from './procedures/getattr.js';
import { setattr } from './procedures/setattr.js';
import { lookup } from './procedures/lookup.js';
import { access } from './procedures/access.js';
import { readlink } from './procedures/readlink.js';
import { read } from './procedures/read.js';
import { write } from './procedures/write.js';
import { create } from './procedures/create.js';
import { mkdir } from './procedures/mkdir.js';
import { symlink } from './procedures/symlink.js';
import { mknod } from './procedures/mknod.js';
import { remove } from './procedures/remove.js';
import { rmdir } from './procedures/rmdir.js';
import { rename } from './procedures/rename.js';
import { link } from './procedures/link.js';
import { readdir } from './procedures/readdir.js';
import { readdirplus } from './procedures/readdirplus.js';
import { fsstat } from './procedures/fsstat.js';
import { fsinfo } from './procedures/fsinfo.js';
import { pathconf } from './procedures/pathconf.js';
import { commit } from './procedures/commit.js';

const NO_ADMISSION = { release() {} };

export function nfsProgram(exports: ExportTable): Program {
  const rows: ProcedureRow[] = [
    procedure({ name: 'NULL', decode: decodeNullArgs, handle: () => undefined, encode: () => {} }),
    nfsRow(getattr, exports),
    nfsRow(setattr, exports),
    nfsRow(lookup, exports),
    nfsRow(access, exports),
    nfsRow(readlink, exports),
    nfsRow(read, exports),
    nfsRow(write, exports),
    nfsRow(create, exports),
    nfsRow(mkdir, exports),
    nfsRow(symlink, exports),
    nfsRow(mknod, exports),
    nfsRow(remove, exports),
    nfsRow(rmdir, exports),
    nfsRow(rename, exports),
    nfsRow(link, exports),
    nfsRow(readdir, exports),
    nfsRow(readdirplus, exports),
    nfsRow(fsstat, exports),
    nfsRow(fsinfo, exports),
    nfsRow(pathconf, exports),
    nfsRow(commit, exports),
  ];
  return {
    number: NFS_PROGRAM,
    name: 'nfs',
    versionLow: NFS_V3,
    versionHigh: NFS_V3,
    procedures: (version) => (version === NFS_V3 ? rows : undefined),
    admit: (_context, target) => {
      if (!Buffer.isBuffer(target)) return NO_ADMISSION;
      const gate = exports.byHandle(target)?.gate;
      // Unknown handles are answered (BADHANDLE/STALE) by the procedure: no gate to pass.
      if (gate === undefined) return NO_ADMISSION;
      return gate.tryEnter() ? { release: () => gate.leave() } : DROP;
    },
  };
}
