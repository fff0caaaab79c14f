// The composition root of one filer's file service: opens its volumes, builds their exports and
// request gates, and serves portmapper, MOUNT and NFS on one TCP port on each of its addresses,
// so a libnfs client needs only `?version=3&nfsport=P&mountport=P`. Layer: server.
//
// What a takeover needs of it (docs/design/takeover.md): `drain()` (step 3), `handoff()` and
// `stop({ reset: true })` (step 4: capture the duplicate-request cache and mount list, close
// the volumes cleanly, drop the addresses and reset their connections so clients reconnect at
// once), and `start({ handoff })` on the partner (steps 5 and 6).

import type { Logger } from '../platform/logger.js';
import { Dispatcher } from '../rpc/dispatcher.js';
import { DuplicateRequestCache, type DrcEntrySnapshot } from '../rpc/duplicate-request-cache.js';
import { StorageFaults } from './storage-faults.js';
import { RpcTcpServer, type TcpConnectionEndpoints } from '../rpc/tcp-server.js';
import { IPPROTO_TCP, PMAP_PROGRAM, PMAP_VERSION, portmapProgram, type Mapping } from '../portmap/program.js';
import { MOUNT_PROGRAM, MOUNT_V3, mountProgram } from '../mount/program.js';
import { MountList } from '../mount/mount-list.js';
import { NFS_PROGRAM, NFS_V3 } from '../nfs3/constants.js';
import { nfsProgram } from '../nfs3/program.js';
import { ExportTable, normalizeExportPath, type Export } from '../exports/export-table.js';
import type { ClientRule } from '../exports/client-rules.js';
import type { Volume } from '../storage/types.js';
import { openVolume } from '../storage/volume.js';
import { nfsUrl } from './nfs-url.js';
import { RequestGate, type DrainResult } from './request-gate.js';

export interface ExportConfig {
  /** The volume's directory. */
  readonly directory: string;
  /** Where clients mount it; default "/<volume name>". */
  readonly path?: string;
  readonly rules: readonly ClientRule[];
}

/** What a client would notice if it were lost in a takeover, in a form that survives JSON. */
export interface FilerHandoff {
  readonly duplicateRequests: readonly DrcEntrySnapshot[];
  readonly mounts: readonly { readonly host: string; readonly path: string }[];
  /**
   * The partner's mirror store that kept every reply this server cached (reply-mirror.ts):
   * when named, `duplicateRequests` is empty and the partner serves with that store instead.
   */
  readonly mirroredStore?: string;
}

export interface FileServerOptions {
  readonly exports: readonly ExportConfig[];
  /** The addresses to serve on (one listener each, all on `port`). */
  readonly hosts: readonly string[];
  /** 0 picks a free port (with one host only). */
  readonly port: number;
  readonly log: Logger;
  /** State captured by the node that served these volumes before (a takeover). */
  readonly handoff?: FilerHandoff;
  /** The duplicate-request cache to serve with (the partner's mirror, taken over); a new one when absent. */
  readonly duplicateRequests?: DuplicateRequestCache;
  /**
   * Whether this node may still serve (its lease is valid, docs/design/fencing.md): checked at
   * every admission and before every storage mutation. Always, when absent.
   */
  readonly mayServe?: () => boolean;
  /**
   * Called once when the storage of the volumes failed STORAGE_ERRORS_FAULT times within
   * STORAGE_ERRORS_WINDOW_MS: a fault this server cannot recover from (negotiated takeover).
   */
  readonly onStorageFault?: (reason: string) => void;
  /** Told of each reply the duplicate-request cache keeps (the partner mirrors them). */
  readonly onReplyCached?: (key: string, reply: Buffer) => void;
}

interface ServedExport extends Export {
  readonly gate: RequestGate;
}

export class FileServer {
  readonly #log: Logger;
  readonly #exports: readonly ServedExport[];
  readonly #listeners: readonly RpcTcpServer[];
  readonly #drc: DuplicateRequestCache;
  readonly #mounts: MountList;
  readonly hosts: readonly string[];
  readonly port: number;
  #stopped = false;

  private constructor(
    log: Logger,
    exports: readonly ServedExport[],
    listeners: readonly RpcTcpServer[],
    state: { drc: DuplicateRequestCache; mounts: MountList },
    hosts: readonly string[],
    port: number,
  ) {
    this.#log = log;
    this.#exports = exports;
    this.#listeners = listeners;
    this.#drc = state.drc;
    this.#mounts = state.mounts;
    this.hosts = hosts;
    this.port = port;
  }

  static async start(options: FileServerOptions): Promise<FileServer> {
    const { log } = options;
    if (options.hosts.length === 0) throw new Error('a file server needs at least one address');
    if (options.port === 0 && options.hosts.length > 1) throw new Error('port 0 needs exactly one address');
    const volumes: Volume[] = [];
    const listeners: RpcTcpServer[] = [];
    try {
      const mayServe = options.mayServe;
      const faults = new StorageFaults(options.onStorageFault);
      for (const config of options.exports) volumes.push(await openVolume(config.directory, mayServe === undefined ? {} : { guard: mayServe }));
      const served: ServedExport[] = volumes.map((volume, i) => {
        const config = options.exports[i]!;
        const path = normalizeExportPath(config.path ?? `/${volume.identity.name}`);
        return { path, volume, rules: config.rules, gate: new RequestGate(mayServe), onStorageError: (message: string) => faults.record(message) };
      });
      const table = new ExportTable(served);
      const drc = options.duplicateRequests ?? new DuplicateRequestCache();
      const mounts = new MountList();
      if (options.handoff !== undefined) {
        drc.restore(options.handoff.duplicateRequests);
        for (const { host, path } of options.handoff.mounts) mounts.add(host, path);
      }
      drc.onCompleted = options.onReplyCached;
      let port = options.port;
      const mappings = (): readonly Mapping[] => [
        { program: PMAP_PROGRAM, version: PMAP_VERSION, protocol: IPPROTO_TCP, port },
        { program: MOUNT_PROGRAM, version: MOUNT_V3, protocol: IPPROTO_TCP, port },
        { program: NFS_PROGRAM, version: NFS_V3, protocol: IPPROTO_TCP, port },
      ];
      const dispatcher = new Dispatcher([portmapProgram(mappings), mountProgram(table, mounts), nfsProgram(table)], drc, log);
      for (const host of options.hosts) {
        const listener = new RpcTcpServer({ host, port, dispatcher, log });
        port = await listener.listen();
        listeners.push(listener);
      }
      const server = new FileServer(log, served, listeners, { drc, mounts }, options.hosts, port);
      for (const url of server.urls()) log.info({ url }, 'export ready');
      return server;
    } catch (error) {
      await Promise.allSettled(listeners.map((listener) => listener.close({ reset: true })));
      await Promise.allSettled(volumes.map((volume) => volume.close()));
      throw error;
    }
  }

  /** The libnfs URL of each export on each address. */
  urls(): string[] {
    return this.hosts.flatMap((address) => this.#exports.map((e) => nfsUrl(address, e.path, this.port)));
  }

  get exports(): readonly { readonly path: string; readonly volume: Volume; readonly gate: RequestGate }[] {
    return this.#exports;
  }

  /**
   * Takeover step 3: every export's gate stops admitting calls (they are dropped, so clients
   * retransmit); resolves when the calls in progress are answered, or at the deadline.
   */
  async drain(deadlineMs: number): Promise<DrainResult> {
    const results = await Promise.all(this.#exports.map((e) => e.gate.drain(deadlineMs)));
    const inProgress = results.reduce((sum, result) => sum + result.inProgress, 0);
    return { drained: inProgress === 0, inProgress };
  }

  /** Every gate stops admitting calls, at once (the self-fence: docs/design/fencing.md, "Stopping"). */
  stopAdmitting(): void {
    for (const e of this.#exports) e.gate.stop();
  }

  /** The clients' open connections, on every address. */
  connections(): TcpConnectionEndpoints[] {
    return this.#listeners.flatMap((listener) => listener.connectionEndpoints());
  }

  /** Calls admitted and not yet answered, over every export. */
  get inProgress(): number {
    return this.#exports.reduce((sum, e) => sum + e.gate.inProgress, 0);
  }

  /** What the partner needs to answer as this server would (takeover step 4). */
  /** The replies the duplicate-request cache holds, oldest first. */
  cachedReplies(): IterableIterator<[string, Buffer]> {
    return this.#drc.entries();
  }

  /**
   * What the partner needs to serve on: the mount list and the duplicate-request cache, or
   * instead of the cache the id of the partner's store that holds all of it (`mirroredStore`).
   */
  handoff(mirroredStore?: string): FilerHandoff {
    const mounts = this.#mounts.list();
    return mirroredStore === undefined ? { duplicateRequests: this.#drc.snapshot(), mounts } : { duplicateRequests: [], mounts, mirroredStore };
  }

  /**
   * Stops serving: the gates stop, calls in progress complete and are answered, the listeners
   * close (with `reset`, connections are reset so clients reconnect at once, to the partner
   * after a takeover), then the volumes close cleanly, keeping their write verifiers.
   */
  async stop(options: { reset?: boolean } = {}): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.stopAdmitting();
    await Promise.all(this.#listeners.map((listener) => listener.close({ reset: options.reset ?? false })));
    await Promise.all(this.#exports.map((e) => e.volume.close()));
    this.#log.info({ hosts: this.hosts, port: this.port }, 'file server stopped');
  }
}

