// The composition root of a standalone file server: opens volumes, builds their exports and
// request gates, and serves portmapper, MOUNT and NFS on one TCP port per address, so a libnfs
// client needs only `?version=3&nfsport=P&mountport=P`. Layer: server.

import type { Logger } from '../platform/logger.js';
import { Dispatcher } from '../rpc/dispatcher.js';
import { DuplicateRequestCache } from '../rpc/duplicate-request-cache.js';
import { RpcTcpServer } from '../rpc/tcp-server.js';
import { IPPROTO_TCP, PMAP_PROGRAM, PMAP_VERSION, portmapProgram, type Mapping } from '../portmap/program.js';
import { MOUNT_PROGRAM, MOUNT_V3, mountProgram } from '../mount/program.js';
import { NFS_PROGRAM, NFS_V3 } from '../nfs3/constants.js';
import { nfsProgram } from '../nfs3/program.js';
import { ExportTable, normalizeExportPath, type Export } from '../exports/export-table.js';
import type { ClientRule } from '../exports/client-rules.js';
import type { Volume } from '../storage/types.js';
import { openVolume } from '../storage/volume.js';
import { RequestGate } from './request-gate.js';

export interface ExportConfig {
  /** The volume's directory. */
  readonly directory: string;
  /** Where clients mount it; default "/<volume name>". */
  readonly path?: string;
  readonly rules: readonly ClientRule[];
}

export interface FileServerOptions {
  readonly exports: readonly ExportConfig[];
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly log: Logger;
}

interface ServedExport extends Export {
  readonly gate: RequestGate;
}

export class FileServer {
  readonly #log: Logger;
  readonly #exports: readonly ServedExport[];
  readonly #tcp: RpcTcpServer;
  readonly host: string;
  readonly port: number;

  private constructor(log: Logger, exports: readonly ServedExport[], tcp: RpcTcpServer, host: string, port: number) {
    this.#log = log;
    this.#exports = exports;
    this.#tcp = tcp;
    this.host = host;
    this.port = port;
  }

  static async start(options: FileServerOptions): Promise<FileServer> {
    const { log } = options;
    const volumes: Volume[] = [];
    try {
      for (const config of options.exports) volumes.push(await openVolume(config.directory));
      const served: ServedExport[] = volumes.map((volume, i) => {
        const config = options.exports[i]!;
        const path = normalizeExportPath(config.path ?? `/${volume.identity.name}`);
        return { path, volume, rules: config.rules, gate: new RequestGate() };
      });
      const table = new ExportTable(served);
      let port = options.port;
      const mappings = (): readonly Mapping[] => [
        { program: PMAP_PROGRAM, version: PMAP_VERSION, protocol: IPPROTO_TCP, port },
        { program: MOUNT_PROGRAM, version: MOUNT_V3, protocol: IPPROTO_TCP, port },
        { program: NFS_PROGRAM, version: NFS_V3, protocol: IPPROTO_TCP, port },
      ];
      const dispatcher = new Dispatcher(
        [portmapProgram(mappings), mountProgram(table), nfsProgram(table)],
        new DuplicateRequestCache(),
        log,
      );
      const tcp = new RpcTcpServer({ host: options.host, port: options.port, dispatcher, log });
      port = await tcp.listen();
      const server = new FileServer(log, served, tcp, options.host, port);
      for (const url of server.urls()) log.info({ url }, 'export ready');
      return server;
    } catch (error) {
      await Promise.allSettled(volumes.map((volume) => volume.close()));
      throw error;
    }
  }

  /** The libnfs URL of each export. */
  urls(): string[] {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host;
    return this.#exports.map((e) => `nfs://${host}${e.path}?version=3&nfsport=${this.port}&mountport=${this.port}`);
  }

  get exports(): readonly { readonly path: string; readonly volume: Volume; readonly gate: RequestGate }[] {
    return this.#exports;
  }

  /** Stops serving: calls in progress complete and are answered, then the volumes close cleanly. */
  async stop(): Promise<void> {
    await this.#tcp.close();
    for (const e of this.#exports) e.gate.stop();
    await Promise.all(this.#exports.map((e) => e.volume.close()));
    this.#log.info('file server stopped');
  }
}
