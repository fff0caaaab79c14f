// Portmapper version 2 (RFC 1833 section 3), answering for the programs this server offers on
// its own port: NULL, GETPORT and DUMP as the RFC defines them; SET and UNSET answer FALSE
// (other services may not register with us); CALLIT is not offered (PROC_UNAVAIL), because an
// indirect call through us is an amplification tool and no NFS client needs it. Layer: portmap.

import type { XdrReader, XdrWriter } from '../xdr/index.js';
import { procedure, type Program, type ProcedureRow } from '../rpc/program.js';

export const PMAP_PROGRAM = 100000;
export const PMAP_VERSION = 2;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const PMAPPROC = { NULL: 0, SET: 1, UNSET: 2, GETPORT: 3, DUMP: 4, CALLIT: 5 } as const;

export interface Mapping {
  readonly program: number;
  readonly version: number;
  readonly protocol: number;
  readonly port: number;
}

function readMapping(reader: XdrReader): Mapping {
  const mapping = { program: reader.uint32(), version: reader.uint32(), protocol: reader.uint32(), port: reader.uint32() };
  reader.end('mapping');
  return mapping;
}

function readVoid(reader: XdrReader): void {
  reader.end('void');
}

const writeVoid = (): void => {};

/** RFC 1833 3: pmaplist is a linked list of optional entries. */
export function writeMappings(writer: XdrWriter, mappings: readonly Mapping[]): void {
  for (const m of mappings) writer.bool(true).uint32(m.program).uint32(m.version).uint32(m.protocol).uint32(m.port);
  writer.bool(false);
}

export function portmapProgram(mappings: () => readonly Mapping[]): Program {
  const rows: ProcedureRow[] = [
    procedure({ name: 'NULL', decode: readVoid, handle: () => undefined, encode: writeVoid }),
    procedure({ name: 'SET', decode: readMapping, handle: () => false, encode: (w, r: boolean) => w.bool(r) }),
    procedure({ name: 'UNSET', decode: readMapping, handle: () => false, encode: (w, r: boolean) => w.bool(r) }),
    procedure({
      name: 'GETPORT',
      decode: readMapping,
      // RFC 1833 3: the port of (program, version, protocol); 0 when it is not registered.
      handle: (_context, wanted) =>
        mappings().find((m) => m.program === wanted.program && m.version === wanted.version && m.protocol === wanted.protocol)
          ?.port ?? 0,
      encode: (w, port: number) => w.uint32(port),
    }),
    procedure({ name: 'DUMP', decode: readVoid, handle: () => mappings(), encode: writeMappings }),
  ];
  return {
    number: PMAP_PROGRAM,
    name: 'portmap',
    versionLow: PMAP_VERSION,
    versionHigh: PMAP_VERSION,
    procedures: (version) => (version === PMAP_VERSION ? rows : undefined),
  };
}
