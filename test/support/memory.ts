// How much memory a process holds, as Linux reports it, for tests that bound a server's growth.

import { readFile } from 'node:fs/promises';

/** A process's resident set size in bytes, from /proc/PID/status (VmRSS). */
export async function residentBytes(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const found = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
  if (found === null) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(found[1]) * 1024;
}
