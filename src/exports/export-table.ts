// The exports a server offers: each volume at a path with its client rules and its request
// gate. MOUNT finds an export by path, NFS by the volume id inside a file handle. Layer:
// exports (knows volumes through the storage contract only).

import type { Volume } from '../storage/types.js';
import { BoundedMap } from '../platform/bounded-map.js';
import { handleHoldsVolume, volumeKeyOf, volumeKeyOfHandle } from '../storage/handle-routing.js';
import { matchClient, type ClientRule } from './client-rules.js';

const NO_EXPORTS: readonly Export[] = [];

/** Client addresses whose rule is remembered, per export. */
const CLIENT_RULE_CACHE_ENTRIES_MAX = 1024;

/** The request gate as the protocol layers see it (src/server/request-gate.ts implements it). */
export interface Gate {
  /** Admits one request, or refuses it (draining or stopped: the request is then dropped). */
  tryEnter(): boolean;
  /** Ends a request admitted by tryEnter. */
  leave(): void;
}

export interface Export {
  /** The path clients mount, e.g. "/data". */
  readonly path: string;
  readonly volume: Volume;
  readonly rules: readonly ClientRule[];
  readonly gate: Gate;
  /** Told of each I/O error of the volume's storage (a node may ask its partner to take over). */
  readonly onStorageError?: (message: string) => void;
}

/** The rule each recent client address matched (null: none), per export; rules never change. */
const matchedRules = new WeakMap<Export, BoundedMap<string, ClientRule | null>>();

/**
 * The client rule of `export_` for `address`, or undefined when the client is not allowed.
 * Asked by every call: matching parses the address (0.30 us with a CIDR rule, against 0.014 us
 * to find the remembered answer), so each address's answer is remembered.
 */
export function clientRule(export_: Export, address: string): ClientRule | undefined {
  let matched = matchedRules.get(export_);
  if (matched === undefined) {
    matched = new BoundedMap(CLIENT_RULE_CACHE_ENTRIES_MAX);
    matchedRules.set(export_, matched);
  }
  let rule = matched.get(address);
  if (rule === undefined) {
    rule = matchClient(export_.rules, address) ?? null;
    matched.set(address, rule);
  }
  return rule ?? undefined;
}

export class ExportTable {
  readonly #byPath = new Map<string, Export>();
  /** The exports by a number drawn from their volume's id (handle-routing.ts), a few to a key at most. */
  readonly #byVolumeKey = new Map<number, Export[]>();

  constructor(exports: readonly Export[]) {
    for (const export_ of exports) {
      const { id } = export_.volume.identity;
      if (this.#byPath.has(export_.path)) throw new Error(`two exports at ${export_.path}`);
      const key = volumeKeyOf(id);
      const sameKey = this.#byVolumeKey.get(key) ?? [];
      if (sameKey.some((other) => other.volume.identity.id.equals(id))) throw new Error(`volume ${export_.volume.identity.name} exported twice`);
      this.#byPath.set(export_.path, export_);
      this.#byVolumeKey.set(key, [...sameKey, export_]);
    }
  }

  get all(): readonly Export[] {
    return [...this.#byPath.values()];
  }

  byPath(path: string): Export | undefined {
    return this.#byPath.get(normalizeExportPath(path));
  }

  /**
   * The export a MOUNT path lies in (the longest export path that is a prefix of it, by whole
   * components) and the components below it: "/data/a/b" -> /data, ["a", "b"].
   */
  containing(path: string): { export: Export; below: string[] } | undefined {
    const parts = normalizeExportPath(path).split('/').slice(1).filter((part) => part.length > 0);
    for (let length = parts.length; length >= 0; length--) {
      const found = this.#byPath.get('/' + parts.slice(0, length).join('/'));
      if (found !== undefined) return { export: found, below: parts.slice(length) };
    }
    return undefined;
  }

  /** The export of the volume a file handle names; undefined when the handle is not of our format or names no volume here. */
  byHandle(handle: Buffer): Export | undefined {
    const key = volumeKeyOfHandle(handle);
    if (key === undefined) return undefined;
    for (const export_ of this.#byVolumeKey.get(key) ?? NO_EXPORTS) {
      if (handleHoldsVolume(handle, export_.volume.identity.id)) return export_;
    }
    return undefined;
  }
}

/** "/a//b/" and "/a/b" name the same export. */
export function normalizeExportPath(path: string): string {
  const parts = path.split('/').filter((part) => part.length > 0);
  return '/' + parts.join('/');
}
