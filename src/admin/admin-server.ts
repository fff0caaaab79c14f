// The admin HTTP API: JSON over HTTP/1.1, thin over one ClusterService (cluster-service.ts).
// Layer: admin. Routes are a table; every request must carry `Authorization: Bearer <token>`
// (admin-token.ts) and is bounded: a body of at most ADMIN_BODY_BYTES_MAX, the whole request
// received within the request timeout, at most ADMIN_CONNECTIONS_MAX connections. A service
// method that throws becomes a 500 carrying its message; the server keeps serving.
//
//   GET  /v1/status                       -> StatusReport
//   GET  /v1/events                       -> { events: EventReport[] }
//   POST /v1/takeover  {"filer": NAME}    -> CommandReport (200 done, 409 refused)
//   POST /v1/giveback  {"filer": NAME}    -> CommandReport (200 done, 409 refused)
//
// Refusals are { error: message }: 400 malformed body, 401 no valid token, 404 unknown route,
// 405 wrong method, 413 body too large, 500 the service failed.

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../platform/logger.js';
import { bearerMatches } from './admin-token.js';
import type { ClusterService, OperationKind } from './cluster-service.js';
import { HttpRefusal, parseCommandBody, readBody } from './request-body.js';

export { ADMIN_BODY_BYTES_MAX } from './request-body.js';

/** Connections open at once; more are closed as they arrive. */
export const ADMIN_CONNECTIONS_MAX = 64;
/** The time a client has to send a whole request (headers and body). */
export const ADMIN_REQUEST_TIMEOUT_MS = 10_000;
/** How often the server looks for requests past their timeout. */
const TIMEOUT_CHECK_INTERVAL_MS_MAX = 1_000;

export interface AdminServerOptions {
  readonly host: string;
  /** 0 picks a free port; start() says which. */
  readonly port: number;
  /** The bearer token requests must carry (adminToken(config.secret)). */
  readonly token: string;
  readonly service: ClusterService;
  readonly log: Logger;
  readonly requestTimeoutMs?: number;
  readonly connectionsMax?: number;
}

interface RequestContext {
  readonly request: IncomingMessage;
  readonly remote: string;
}

interface Route {
  readonly method: 'GET' | 'POST';
  readonly handle: (context: RequestContext) => Promise<{ status: number; body: unknown }>;
}

export class AdminServer {
  readonly #options: AdminServerOptions;
  readonly #server: http.Server;
  readonly #routes: ReadonlyMap<string, Route>;

  constructor(options: AdminServerOptions) {
    this.#options = options;
    const requestTimeoutMs = options.requestTimeoutMs ?? ADMIN_REQUEST_TIMEOUT_MS;
    this.#server = http.createServer({
      requestTimeout: requestTimeoutMs,
      headersTimeout: requestTimeoutMs,
      connectionsCheckingInterval: Math.min(TIMEOUT_CHECK_INTERVAL_MS_MAX, requestTimeoutMs),
    }, (request, response) => {
      this.#handle(request, response).catch((error: unknown) => {
        options.log.error({ err: error }, 'admin: could not answer a request');
        response.destroy();
      });
    });
    this.#server.maxConnections = options.connectionsMax ?? ADMIN_CONNECTIONS_MAX;
    this.#routes = new Map<string, Route>([
      ['/v1/status', { method: 'GET', handle: async () => ({ status: 200, body: await options.service.status() }) }],
      ['/v1/events', { method: 'GET', handle: async () => ({ status: 200, body: { events: await options.service.events() } }) }],
      ['/v1/takeover', { method: 'POST', handle: (context) => this.#command('takeover', context) }],
      ['/v1/giveback', { method: 'POST', handle: (context) => this.#command('giveback', context) }],
    ]);
  }

  /** Listens on host:port; resolves with the port actually bound. */
  start(): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => reject(error);
      this.#server.once('error', onError);
      this.#server.listen(this.#options.port, this.#options.host, () => {
        this.#server.off('error', onError);
        const port = (this.#server.address() as AddressInfo).port;
        this.#options.log.info({ host: this.#options.host, port }, 'admin API listening');
        resolve(port);
      });
    });
  }

  /** Stops listening and closes every connection, including requests still running. */
  stop(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const context: RequestContext = { request, remote: request.socket.remoteAddress ?? 'unknown' };
    const path = new URL(request.url ?? '/', 'http://admin').pathname;
    const log = this.#options.log.child({ remote: context.remote, method: request.method, path });
    try {
      if (!bearerMatches(request.headers.authorization, this.#options.token)) {
        // The presented header is never logged: it may be a real token sent to the wrong cluster.
        log.warn('admin request refused: no valid bearer token');
        throw new HttpRefusal(401, 'unauthorized: send "Authorization: Bearer <admin token>"', { 'www-authenticate': 'Bearer' });
      }
      const route = this.#routes.get(path);
      if (route === undefined) throw new HttpRefusal(404, `no route ${path} (routes: ${[...this.#routes.keys()].join(', ')})`);
      if (request.method !== route.method) {
        throw new HttpRefusal(405, `${path} takes ${route.method}, not ${request.method ?? '?'}`, { allow: route.method });
      }
      const { status, body } = await route.handle(context);
      send(response, status, body);
    } catch (error) {
      if (error instanceof HttpRefusal) {
        // The body may not have been read: close rather than parse what follows as a request.
        send(response, error.status, { error: error.message }, { ...error.headers, connection: 'close' });
        return;
      }
      const message = error instanceof Error ? error.message : String(error);
      log.error({ err: error }, 'admin request failed in the cluster service');
      send(response, 500, { error: message });
    }
  }

  async #command(kind: OperationKind, context: RequestContext): Promise<{ status: number; body: unknown }> {
    const { filer, force } = parseCommandBody(await readBody(context.request));
    this.#options.log.info({ remote: context.remote, kind, filer, force }, 'admin: operation requested');
    const report = await this.#options.service.command(kind, filer, { force });
    return { status: report.ok ? 200 : 409, body: report };
  }
}

function send(response: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  if (response.headersSent || response.destroyed) return;
  const text = `${JSON.stringify(body)}\n`;
  response.writeHead(status, {
    ...headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
  });
  response.end(text);
}
