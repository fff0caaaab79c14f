// How a server process ends once it has stopped in order (layer: cli): `tandem node` after its
// filers are released and its volumes closed, `tandem serve` after its volumes are closed.

import type { Logger } from '../platform/logger.js';

/**
 * Ends the process with process.exit, not by letting the event loop drain. After a drained loop,
 * Node's own teardown (Environment::CleanupHandles) was seen to spin for good, about one run in
 * ten of a partition test: the node logged "node stopped" and was still up 15 s later, its main
 * thread in CleanupHandles -> uv_run (gdb), its other threads idle. process.exit skips that
 * teardown; the caller has stopped everything, and the log is written synchronously. What was
 * still open is logged at debug level, for whoever looks for a leak.
 */
export function exitAfterStop(log: Logger): never {
  log.debug({ open: process.getActiveResourcesInfo() }, 'exiting');
  process.exit(0);
}
