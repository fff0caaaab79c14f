// One TCP connection attempt, reduced to how it ended (layer: platform). Used to tell a gone
// process from a stalled one (cluster/runtime/process-gone.ts) and to tickle a client's stale
// connection (cluster/address/connection-tickle.ts); the socket never carries data and is
// destroyed at once either way.

import net from 'node:net';

export type ConnectOutcome = 'refused' | 'accepted' | 'timeout' | 'error';

/** Connects with `options`; 'timeout' when neither a connection nor an error came within `timeoutMs`. */
export function connectOnce(options: net.TcpNetConnectOpts, timeoutMs: number): Promise<ConnectOutcome> {
  return new Promise((resolve) => {
    const socket = net.connect(options);
    const done = (outcome: ConnectOutcome) => {
      clearTimeout(timer);
      socket.removeAllListeners();
      socket.on('error', () => {});
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.once('connect', () => done('accepted'));
    socket.once('error', (error: NodeJS.ErrnoException) => done(error.code === 'ECONNREFUSED' ? 'refused' : 'error'));
  });
}
