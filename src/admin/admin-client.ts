// A client of the admin HTTP API (admin-server.ts) over a list of nodes' admin endpoints, in
// order of preference. Layer: admin; the `tandem` operator commands use it. It moves on to the
// next endpoint only when a node does not answer at all (connection refused, reset, timeout):
// a node that answered, even with an HTTP error, has given the answer, and asking another node
// could run an operation twice. When no node answers, an AdminError names every endpoint tried
// and why each failed.

import type { ClusterService, CommandOptions, CommandReport, EventReport, OperationKind, StatusReport } from './cluster-service.js';

export interface AdminEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface AdminClientOptions {
  /** Tried in this order. */
  readonly endpoints: readonly AdminEndpoint[];
  /** The bearer token (adminToken(config.secret)). */
  readonly token: string;
  /** How long one endpoint has to answer before the next is tried. */
  readonly timeoutMs: number;
}

/**
 * `unreachable`: no endpoint answered; `http`: a node answered with an error status (`status`);
 * `bad-answer`: a node answered with something that is not the API's JSON.
 */
export type AdminErrorCode = 'unreachable' | 'http' | 'bad-answer';

export class AdminError extends Error {
  readonly code: AdminErrorCode;
  /** The HTTP status of the answer, for `http` and `bad-answer`. */
  readonly status: number | null;
  /** Every endpoint tried (HOST:PORT), in order. */
  readonly endpoints: readonly string[];

  constructor(code: AdminErrorCode, message: string, endpoints: readonly string[], status: number | null = null) {
    super(message);
    this.name = 'AdminError';
    this.code = code;
    this.status = status;
    this.endpoints = endpoints;
  }
}

/** What one node answered, and the endpoints tried to get it. */
interface Answer {
  readonly status: number;
  readonly body: Record<string, unknown>;
  readonly endpoint: string;
  readonly tried: readonly string[];
}

/** Implements ClusterService over HTTP, so code written against the service works remotely too. */
export class AdminClient implements ClusterService {
  readonly #options: AdminClientOptions;

  constructor(options: AdminClientOptions) {
    if (options.endpoints.length === 0) throw new Error('AdminClient: no endpoints');
    this.#options = options;
  }

  async status(): Promise<StatusReport> {
    const answer = await this.#request('GET', '/v1/status', undefined, [200]);
    expectArrays(answer, ['nodes', 'filers']);
    return answer.body as unknown as StatusReport;
  }

  async events(): Promise<readonly EventReport[]> {
    const answer = await this.#request('GET', '/v1/events', undefined, [200]);
    expectArrays(answer, ['events']);
    return answer.body['events'] as readonly EventReport[];
  }

  /** Runs a takeover or giveback; a refusal (409) is a CommandReport with ok false, not an error. */
  async command(kind: OperationKind, filer: string, options: CommandOptions = {}): Promise<CommandReport> {
    const body = options.force === true ? { filer, force: true } : { filer };
    const answer = await this.#request('POST', `/v1/${kind}`, JSON.stringify(body), [200, 409]);
    const ok = answer.body['ok'];
    const shaped = ok === true ? typeof answer.body['event'] === 'object' : ok === false && typeof answer.body['reason'] === 'string';
    if (!shaped) throw badAnswer(answer, 'a CommandReport ({ok, event} or {ok, reason})');
    return answer.body as unknown as CommandReport;
  }

  async #request(method: 'GET' | 'POST', path: string, body: string | undefined, expected: readonly number[]): Promise<Answer> {
    const tried: string[] = [];
    const failures: string[] = [];
    for (const endpoint of this.#options.endpoints) {
      const name = formatAdminEndpoint(endpoint);
      tried.push(name);
      let response: Response;
      const signal = AbortSignal.timeout(this.#options.timeoutMs);
      try {
        response = await fetch(`http://${name}${path}`, {
          method,
          headers: { authorization: `Bearer ${this.#options.token}`, accept: 'application/json', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
          ...(body === undefined ? {} : { body }),
          signal,
        });
      } catch (error) {
        failures.push(`${name} (${this.#whyUnanswered(error)})`);
        continue;
      }
      const answer = await readAnswer(response, name, [...tried]);
      if (!expected.includes(answer.status)) {
        const reason = typeof answer.body['error'] === 'string' ? answer.body['error'] : JSON.stringify(answer.body);
        throw new AdminError('http', `${name} answered ${answer.status}: ${reason}`, tried, answer.status);
      }
      return answer;
    }
    throw new AdminError('unreachable', `no admin endpoint answered: ${failures.join(', ')}`, tried);
  }

  #whyUnanswered(error: unknown): string {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) return `no answer within ${this.#options.timeoutMs} ms`;
    const cause = error instanceof Error ? (error.cause as { code?: unknown; message?: unknown } | undefined) : undefined;
    if (cause?.code === 'ECONNREFUSED') return 'connection refused';
    if (typeof cause?.code === 'string') return cause.code;
    if (typeof cause?.message === 'string') return cause.message;
    return error instanceof Error ? error.message : String(error);
  }
}

/** HOST:PORT, with an IPv6 host in brackets. */
export function formatAdminEndpoint(endpoint: AdminEndpoint): string {
  return endpoint.host.includes(':') ? `[${endpoint.host}]:${endpoint.port}` : `${endpoint.host}:${endpoint.port}`;
}

async function readAnswer(response: Response, endpoint: string, tried: readonly string[]): Promise<Answer> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    throw new AdminError('bad-answer', `${endpoint} answered ${response.status} but the body was cut off: ${error instanceof Error ? error.message : String(error)}`, tried, response.status);
  }
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch {
    throw new AdminError('bad-answer', `${endpoint} answered ${response.status} with a body that is not JSON: ${JSON.stringify(text.slice(0, 200))}`, tried, response.status);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new AdminError('bad-answer', `${endpoint} answered ${response.status} with JSON that is not an object`, tried, response.status);
  }
  return { status: response.status, body: body as Record<string, unknown>, endpoint, tried };
}

function expectArrays(answer: Answer, keys: readonly string[]): void {
  const missing = keys.find((key) => !Array.isArray(answer.body[key]));
  if (missing !== undefined) throw badAnswer(answer, `an object with a list "${missing}"`);
}

function badAnswer(answer: Answer, expected: string): AdminError {
  return new AdminError('bad-answer', `${answer.endpoint} answered ${answer.status} with JSON that is not ${expected}`, answer.tried, answer.status);
}
