// Test support for the admin API: an AdminServer on 127.0.0.1 over a FakeClusterService, a
// logger whose lines a test can read, and a port that nothing listens on.

import net from 'node:net';
import pino from 'pino';
import type { Logger } from '../platform/logger.js';
import { AdminServer, type AdminServerOptions } from './admin-server.js';
import { adminToken } from './admin-token.js';
import { FakeClusterService } from './cluster-service-fixture.js';

export const TEST_SECRET = 'a test secret of at least thirty-two bytes';
export const TEST_TOKEN = adminToken(Buffer.from(TEST_SECRET));

export interface FakeAdmin {
  readonly server: AdminServer;
  readonly service: FakeClusterService;
  readonly port: number;
  readonly url: string;
  /** Every log line the server wrote, parsed. */
  readonly logs: Record<string, unknown>[];
}

/** Starts an AdminServer on 127.0.0.1 port 0; stop it with `server.stop()`. */
export async function startFakeAdmin(options: Partial<Omit<AdminServerOptions, 'service' | 'log'>> = {}): Promise<FakeAdmin> {
  const service = new FakeClusterService();
  const logs: Record<string, unknown>[] = [];
  const log: Logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const server = new AdminServer({ host: '127.0.0.1', port: 0, token: TEST_TOKEN, ...options, service, log });
  const port = await server.start();
  return { server, service, port, url: `http://127.0.0.1:${port}`, logs };
}

/** A port on 127.0.0.1 that was free a moment ago: connections to it are refused. */
export function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
