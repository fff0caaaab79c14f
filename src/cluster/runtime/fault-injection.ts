// Fault injection for the real-process tests and the failover benchmark (layer: cluster/runtime).
// When the environment names a fault file (TANDEM_FAULT_FILE), the node reads it every
// FAULT_POLL_MS; `{"interconnect": "cut"}` makes its interconnect drop every frame both ways, as
// a cut cable would (docs/design/fencing.md: a cut interconnect must not cause a takeover). No
// file named, or a file that is absent or unreadable: no fault. Operators never set it.

import fs from 'node:fs';
import type { Logger } from '../../platform/logger.js';

export const FAULT_FILE_ENV = 'TANDEM_FAULT_FILE';
export const FAULT_POLL_MS = 50;
/** A fault file larger than this is ignored. */
const FAULT_FILE_BYTES_MAX = 4096;

export interface Faults {
  /** True while the interconnect is to be cut. */
  interconnectCut(): boolean;
  stop(): void;
}

/** The faults the environment asks for, or undefined when it asks for none. */
export function faultsFromEnvironment(log: Logger, env: NodeJS.ProcessEnv = process.env): Faults | undefined {
  const file = env[FAULT_FILE_ENV];
  if (file === undefined || file === '') return undefined;
  log.warn({ file }, `fault injection enabled by ${FAULT_FILE_ENV}: for tests only`);
  let cut = false;
  const read = () => {
    const next = readCut(file);
    if (next !== cut) log.warn({ file, interconnect: next ? 'cut' : 'restored' }, 'injected interconnect fault changed');
    cut = next;
  };
  read();
  const timer = setInterval(read, FAULT_POLL_MS);
  timer.unref();
  return { interconnectCut: () => cut, stop: () => clearInterval(timer) };
}

function readCut(file: string): boolean {
  try {
    const contents = fs.readFileSync(file);
    if (contents.length > FAULT_FILE_BYTES_MAX) return false;
    const value = JSON.parse(contents.toString('utf8')) as unknown;
    return typeof value === 'object' && value !== null && (value as Record<string, unknown>)['interconnect'] === 'cut';
  } catch {
    return false;
  }
}
