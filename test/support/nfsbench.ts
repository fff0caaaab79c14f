// The shared libnfs-based benchmark and probe (../shared/bench/nfsbench.c), built once per
// checkout into dist/tools. A real client nobody here wrote; its absence is a setup error.

import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, runOk } from './processes.js';

export const NFSBENCH_SOURCE = path.resolve(REPO_ROOT, '..', 'shared', 'bench', 'nfsbench.c');
const NFSBENCH_BINARY = path.join(REPO_ROOT, 'dist', 'tools', 'nfsbench');

/** The path of a built nfsbench; builds it if it is missing or older than its source. */
export async function nfsbench(): Promise<string> {
  if (!existsSync(NFSBENCH_SOURCE)) {
    throw new Error(`${NFSBENCH_SOURCE} is missing: the shared benchmark must be beside the checkout (../shared)`);
  }
  if (!existsSync(NFSBENCH_BINARY) || statSync(NFSBENCH_BINARY).mtimeMs < statSync(NFSBENCH_SOURCE).mtimeMs) {
    mkdirSync(path.dirname(NFSBENCH_BINARY), { recursive: true });
    await runOk('cc', ['-O2', '-o', NFSBENCH_BINARY, NFSBENCH_SOURCE, '-lnfs'], { timeoutMs: 120_000 });
  }
  return NFSBENCH_BINARY;
}

/** The machine-readable last line of an nfsbench run (`MODE: key=value ...`) as a map. */
export function summary(stdout: string, mode: string): Map<string, string> {
  const line = stdout.split('\n').reverse().find((l) => l.startsWith(`${mode}: `));
  if (line === undefined) throw new Error(`no "${mode}:" summary line in:\n${stdout}`);
  const values = new Map<string, string>();
  for (const pair of line.slice(mode.length + 2).split(' ')) {
    const at = pair.indexOf('=');
    if (at > 0) values.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return values;
}
