// The client connections of a filer, as its server reports them to the partner over the
// interconnect (node-runtime.ts), so that after a failure takeover the partner can make those
// clients reconnect at once (address/connection-tickle.ts). Layer: cluster/runtime. The wire
// form is compact, [client, clientPort, server, serverPort] per connection, and is checked on
// arrival like every partner message: a malformed report is refused, never half-applied.

import net from 'node:net';
import type { TcpConnectionEndpoints } from '../../rpc/tcp-server.js';
import { CONNECTIONS_MAX } from '../../rpc/tcp-server.js';
import type { JsonValue } from '../interconnect/interconnect.js';
import { filerBatchFromWire } from './wire-messages.js';

export interface ConnectionReport {
  readonly filer: string;
  readonly epoch: bigint;
  readonly connections: readonly TcpConnectionEndpoints[];
}

export function connectionsToWire(filer: string, epoch: bigint, connections: readonly TcpConnectionEndpoints[]): JsonValue {
  const list = connections
    .slice(0, CONNECTIONS_MAX)
    .map((c) => [c.client, c.clientPort, c.server, c.serverPort])
    .sort((x, y) => String(x).localeCompare(String(y)));
  return { filer, epoch: String(epoch), connections: list };
}

/** The report in `body`, or why it is not one. */
export function connectionsFromWire(body: unknown): ConnectionReport | string {
  const batch = filerBatchFromWire(body, 'connections', CONNECTIONS_MAX);
  if (typeof batch === 'string') return batch;
  const out: TcpConnectionEndpoints[] = [];
  for (const item of batch.items) {
    if (!Array.isArray(item) || item.length !== 4) return 'a connection is not [client, clientPort, server, serverPort]';
    const [client, clientPort, server, serverPort] = item as unknown[];
    if (typeof client !== 'string' || net.isIP(client) === 0 || typeof server !== 'string' || net.isIP(server) === 0) return 'a connection has an address that is not an IP address';
    if (!isPort(clientPort) || !isPort(serverPort)) return 'a connection has a port out of range';
    out.push({ client, clientPort, server, serverPort });
  }
  return { filer: batch.filer, epoch: batch.epoch, connections: out };
}

function isPort(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 1 && (value as number) <= 65535;
}
