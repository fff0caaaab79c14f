// Tells a partner process that is gone from one that is stalled (docs/design/fencing.md, "A
// process that is gone, told from one that is stalled"). Layer: cluster/runtime. A process
// killed with kill -9 loses its listening sockets, so a connection to them is refused at once;
// a stalled process (SIGSTOP, a VM pause) keeps them, and the kernel still completes the
// handshake into its backlog. Only "refused on every endpoint" means gone: a timeout, an
// accepted connection or any other error is treated as a process that may still serve.

import { connectOnce, type ConnectOutcome } from '../../platform/connect-once.js';

/** How long one connection attempt may take before it counts as "not refused". */
export const GONE_PROBE_TIMEOUT_MS = 250;

export interface ProbeEndpoint {
  readonly host: string;
  readonly port: number;
}

export type ProbeOutcome = ConnectOutcome;

/** One connection attempt to `endpoint`. */
export function probeEndpoint(endpoint: ProbeEndpoint, timeoutMs = GONE_PROBE_TIMEOUT_MS): Promise<ProbeOutcome> {
  return connectOnce({ host: endpoint.host, port: endpoint.port }, timeoutMs);
}

/** True only when every endpoint refuses a connection: no process listens there any more. */
export async function isGone(endpoints: readonly ProbeEndpoint[], timeoutMs = GONE_PROBE_TIMEOUT_MS): Promise<boolean> {
  if (endpoints.length === 0) return false;
  const outcomes = await Promise.all(endpoints.map((endpoint) => probeEndpoint(endpoint, timeoutMs)));
  return outcomes.every((outcome) => outcome === 'refused');
}
