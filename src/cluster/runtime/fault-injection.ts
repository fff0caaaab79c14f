// Fault injection for the real-process tests and the failover benchmark (layer: cluster/runtime).
// When the environment names a fault file (TANDEM_FAULT_FILE), the node reads it every
// FAULT_POLL_MS:
// - `"interconnect": "cut"` makes its interconnect drop every frame both ways, as a cut cable
//   would (docs/design/fencing.md: a cut interconnect must not cause a takeover);
// - `"crash": "before-release"` (or after-release, before-claim, after-serve, ...: before or
//   after any action of the core) kills the process with SIGKILL at that point, so a test can
//   crash a node at every phase of a takeover.
// No file named, or a file that is absent or unreadable: no fault. Operators never set it.

import fs from 'node:fs';
import type { Logger } from '../../platform/logger.js';

export const FAULT_FILE_ENV = 'TANDEM_FAULT_FILE';
export const FAULT_POLL_MS = 50;
/** A fault file larger than this is ignored. */
const FAULT_FILE_BYTES_MAX = 4096;

export interface Faults {
  /** True while the interconnect is to be cut. */
  interconnectCut(): boolean;
  /** Kills the process if the fault file asks for a crash at `point` ('before-release', ...). */
  crashPoint(point: string): void;
  stop(): void;
}

interface FaultFile {
  readonly cut: boolean;
  readonly crash: string | undefined;
}

/** The faults the environment asks for, or undefined when it asks for none. */
export function faultsFromEnvironment(log: Logger, env: NodeJS.ProcessEnv = process.env): Faults | undefined {
  const file = env[FAULT_FILE_ENV];
  if (file === undefined || file === '') return undefined;
  log.warn({ file }, `fault injection enabled by ${FAULT_FILE_ENV}: for tests only`);
  let faults: FaultFile = { cut: false, crash: undefined };
  const read = () => {
    const next = readFaults(file);
    if (next.cut !== faults.cut) log.warn({ file, interconnect: next.cut ? 'cut' : 'restored' }, 'injected interconnect fault changed');
    faults = next;
  };
  read();
  const timer = setInterval(read, FAULT_POLL_MS);
  timer.unref();
  return {
    interconnectCut: () => faults.cut,
    crashPoint: (point) => {
      // Read now, not from the last poll: the test writes the file just before it acts.
      if (readFaults(file).crash !== point) return;
      log.fatal({ point }, 'injected crash');
      process.kill(process.pid, 'SIGKILL');
    },
    stop: () => clearInterval(timer),
  };
}

function readFaults(file: string): FaultFile {
  try {
    const contents = fs.readFileSync(file);
    if (contents.length > FAULT_FILE_BYTES_MAX) return { cut: false, crash: undefined };
    const value = JSON.parse(contents.toString('utf8')) as Record<string, unknown> | null;
    const crash = value?.['crash'];
    return { cut: value?.['interconnect'] === 'cut', crash: typeof crash === 'string' ? crash : undefined };
  } catch {
    return { cut: false, crash: undefined };
  }
}
