// Makes clients drop TCP connections that still point at a filer's previous server, so they
// reconnect to the new one at once instead of after their retransmission timeout (CTDB's
// "tickle ACK" solves the same problem). Layer: cluster/address.
//
// After a host dies, its clients' connections are left established, retransmitting with a
// backoff that reaches seconds; the new server's kernel would reset each one only when its next
// retransmission arrives. We cannot forge the classic tickle ACK without raw sockets, so each
// connection is tickled with a SYN instead: before the filer's listeners are bound, the new
// server connects from the filer's address and port to the client's address and port. The
// client's TCP, which has that connection established, answers the SYN with a challenge ACK
// (RFC 5961 §4) carrying its real sequence numbers; our socket, in SYN-SENT, finds that ACK
// unacceptable and answers it with a reset whose sequence number is the one the client expects
// (RFC 793, p. 66), so the client drops the connection and reconnects. The address must already
// be announced, so that the challenge ACK comes to this host.

import { connectOnce } from '../../platform/connect-once.js';
import type { TcpConnectionEndpoints } from '../../rpc/tcp-server.js';

/** How long one tickle may take: the client's answer and our reset cross the LAN twice. */
export const TICKLE_WAIT_MS = 100;
/** Connections tickled at most (the RPC server accepts no more than this many). */
export const TICKLES_MAX = 1024;

/**
 * Tickles every connection; resolves with how many were answered (the client reset its end and
 * then refused our retransmitted SYN), once all are answered or TICKLE_WAIT_MS has passed.
 */
export async function tickleConnections(connections: readonly TcpConnectionEndpoints[], waitMs = TICKLE_WAIT_MS): Promise<number> {
  const outcomes = await Promise.all(connections.slice(0, TICKLES_MAX).map((connection) => tickle(connection, waitMs)));
  return outcomes.filter(Boolean).length;
}

async function tickle(connection: TcpConnectionEndpoints, waitMs: number): Promise<boolean> {
  const outcome = await connectOnce(
    { host: connection.client, port: connection.clientPort, localAddress: connection.server, localPort: connection.serverPort },
    waitMs,
  );
  // Refused: the client's end is gone. Accepted: the client was itself reconnecting from that
  // port (a simultaneous open); destroying our end resets it, which is as good.
  return outcome === 'refused' || outcome === 'accepted';
}
