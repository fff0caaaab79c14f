// The real clock for volumes that are not given one: Date.now's epoch at hrtime's resolution,
// so successive changes get distinct nanosecond times (NFS clients compare mtimes to decide
// whether their cache is stale).

import type { Timestamp } from './types.js';

const epochNanosecondsAtStart = BigInt(Date.now()) * 1_000_000n - process.hrtime.bigint();

export function systemNow(): Timestamp {
  const nanoseconds = epochNanosecondsAtStart + process.hrtime.bigint();
  return { seconds: Number(nanoseconds / 1_000_000_000n), nanoseconds: Number(nanoseconds % 1_000_000_000n) };
}
