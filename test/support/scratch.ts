// Temporary directories for tests, removed afterwards.

import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function scratchDirectory(prefix: string): { path: string; remove(): void } {
  const directory = mkdtempSync(path.join(os.tmpdir(), `tandem-${prefix}-`));
  return { path: directory, remove: () => rmSync(directory, { recursive: true, force: true }) };
}
