// The interconnect: the authenticated TCP link between the two partners of a filer pair, carrying
// heartbeats and the request/response messages of the takeover protocol
// (docs/design/takeover.md). Layer: cluster/interconnect; it meets sockets and timers, so the
// pure core never has to.
//
// Framing (framing.ts). A frame is a 4-byte big-endian length and that many payload bytes. A
// length above the current limit closes the connection before anything is allocated: the limit
// is HANDSHAKE_FRAME_BYTES_MAX (4 KiB) until the peer has proven the secret, FRAME_BYTES_MAX
// (4 MiB, room for a filer's hand-off state) after. (Improvement on the first design: a stranger
// cannot make us buffer 4 MiB.)
//
// Handshake (handshake.ts), mutual, with the cluster secret. Each side sends `hello { cluster,
// node, nonce (32 random bytes, hex), version }`; on the peer's hello each sends `proof =
// HMAC(secret, label | "proof" | own role | cluster | version | own node | peer node | own
// nonce | peer nonce)` (fields length-prefixed, so no two lists encode alike; cluster and
// version are bound in so the unauthenticated hellos cannot be altered); each checks the other's
// proof with timingSafeEqual. A wrong secret, cluster, version or node name, a reflected nonce,
// a partner connecting to the node that should dial, or no proof within HANDSHAKE_TIMEOUT_MS
// refuses the peer: a warning with the reason and the remote address (never the secret), the
// connection closed, and where it helps the other operator, `refused { reason }` sent first.
// The session key is HMAC(secret, label | "session" | cluster | version | dialer node |
// listener node | dialer nonce | listener nonce): every session has its own.
//
// Session frames (sealing.ts): payload = tag | seq | body with tag = HMAC(session key,
// sender role | seq | body), and body = JSON length | JSON | attachment (messages.ts). Each
// direction counts from 1 and the receiver accepts only the next seq (improvement: "any
// greater seq" would let a man in the middle delete frames). A bad tag, a seq out of order (a
// replay) or a malformed body closes the connection with a warning. A frame recorded in one
// session fails in any other, because the key differs.
//
// Who connects. Both nodes listen on their own endpoint; the node whose name sorts first dials
// the other, so there is one connection. The dialer reconnects by itself after any loss, waiting
// RECONNECT_DELAY_MIN_MS, doubling after each failure up to RECONNECT_DELAY_MAX_MS, back to the
// minimum once a session is established. The listener accepts at most HANDSHAKES_IN_PROGRESS_MAX
// unauthenticated connections and one session: a new authenticated session from the partner
// replaces the old one (a partner that restarted leaves a half-open connection behind). The
// dialer's own listener refuses its partner with the reason (a naming mistake in the config).
//
// Liveness. Every heartbeatIntervalMs each side sends `heartbeat { sentAtMs }`. `lastHeardMs` is
// the time of the last valid frame received. A watchdog closes the session when nothing valid
// arrived for peerTimeoutMs. Events: 'peer-up' when a session is established; 'peer-down'
// (with the reason) when it ends for any reason: silence, close, violation, replacement or
// stop(). Each 'peer-up' is followed by exactly one 'peer-down' before the next 'peer-up'.
//
// Requests. `request(type, body, timeoutMs, attachment?)` resolves with the partner's response
// body, or rejects with InterconnectError: 'down' (no session, or it ended first), 'timeout',
// 'refused' (the partner's handler failed, is missing or busy), 'overloaded'
// (PENDING_REQUESTS_MAX outstanding), 'too-large' (the request exceeds a frame). Incoming
// requests go to the handler set with onRequest; at most INCOMING_REQUESTS_MAX run at once, more
// are answered 'busy'.
// Responses and ids belong to one session: a response to a session that ended is dropped.
//
// Time: through InterconnectClock (clock.ts), so tests can drive it by hand.

import { EventEmitter } from 'node:events';
import net from 'node:net';
import type { Logger } from '../../platform/logger.js';
import { systemClock, type CancelTimer, type InterconnectClock } from './clock.js';
import { NAME_CHARS_MAX, roleOf, type Role } from './handshake.js';
import { Link } from './link.js';
import { ERROR_CHARS_MAX, isRequestType, type JsonValue, type SessionMessage } from './messages.js';

export const RECONNECT_DELAY_MIN_MS = 100;
export const RECONNECT_DELAY_MAX_MS = 5000;
/** Unauthenticated connections the listener holds at once; more are closed on arrival. */
export const HANDSHAKES_IN_PROGRESS_MAX = 8;
/** Our requests awaiting a response. */
export const PENDING_REQUESTS_MAX = 64;
/** The partner's requests whose handler is running. */
export const INCOMING_REQUESTS_MAX = 64;
/** The shortest cluster secret accepted: 128 bits. */
export const SECRET_BYTES_MIN = 16;

export type InterconnectErrorCode = 'down' | 'timeout' | 'refused' | 'overloaded' | 'too-large';

export class InterconnectError extends Error {
  constructor(readonly code: InterconnectErrorCode, message: string) {
    super(message);
    this.name = 'InterconnectError';
  }
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
}

export interface InterconnectOptions {
  /** Our node name, and our partner's. */
  readonly node: string;
  readonly partner: string;
  readonly cluster: string;
  readonly secret: Buffer;
  /** Where we accept the partner (port 0 picks one: see listenAddress). */
  readonly listen: Endpoint;
  /** Where the partner listens: dialed only when our name sorts first. */
  readonly dial: Endpoint;
  readonly heartbeatIntervalMs: number;
  readonly peerTimeoutMs: number;
  readonly log: Logger;
  readonly clock?: InterconnectClock;
  /** Fault injection (tests): while it says true, the link drops every frame both ways. */
  readonly isCut?: () => boolean;
}

export interface PeerUp {
  readonly partner: string;
  readonly remote: string;
  /** Our role in this session. */
  readonly role: Role;
}

export interface PeerDown {
  readonly partner: string;
  readonly reason: string;
}

export interface HeartbeatHeard {
  /** The partner's clock when it sent the heartbeat; our clock when it arrived. */
  readonly sentAtMs: number;
  readonly receivedAtMs: number;
}

export interface InterconnectEvents {
  'peer-up': [PeerUp];
  'peer-down': [PeerDown];
  heartbeat: [HeartbeatHeard];
}

/**
 * Answers one request of the partner (`attachment`: the bytes it carried beside its JSON, if
 * any); a rejection becomes `{ ok: false, error: message }`.
 */
export type RequestHandler = (type: string, body: JsonValue, attachment: Buffer | undefined) => Promise<JsonValue>;

interface Pending {
  readonly type: string;
  readonly resolve: (body: JsonValue) => void;
  readonly reject: (error: InterconnectError) => void;
  readonly cancelTimer: CancelTimer;
}

/** One authenticated session and what belongs to it alone. */
interface Session {
  readonly link: Link;
  readonly pending: Map<number, Pending>;
  nextRequestId: number;
  incoming: number;
  cancelHeartbeat: CancelTimer;
  cancelWatchdog: CancelTimer;
}

export class Interconnect extends EventEmitter<InterconnectEvents> {
  readonly role: Role;
  readonly #options: InterconnectOptions;
  readonly #clock: InterconnectClock;
  readonly #log: Logger;
  readonly #server: net.Server;
  readonly #handshaking = new Set<Link>();
  /** Every link whose socket is not yet closed, refused ones included. */
  readonly #links = new Set<Link>();
  #state: 'new' | 'started' | 'stopped' = 'new';
  #session: Session | undefined;
  #lastHeardMs: number | undefined;
  #handler: RequestHandler | undefined;
  #listenAddress: Endpoint | undefined;
  /** The dialer's connection being set up, and its next reconnect. */
  #dialing: Link | undefined;
  #cancelReconnect: CancelTimer | undefined;
  #reconnectDelayMs = RECONNECT_DELAY_MIN_MS;

  constructor(options: InterconnectOptions) {
    super();
    checkOptions(options);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.role = roleOf(options.node, options.partner);
    this.#log = options.log.child({ component: 'interconnect', node: options.node, partner: options.partner });
    this.#server = net.createServer({ noDelay: true }, (socket) => this.#accept(socket));
  }

  get isUp(): boolean {
    return this.#session !== undefined;
  }

  /** When the last valid frame of the partner arrived (our clock), or undefined if none ever did. */
  get lastHeardMs(): number | undefined {
    return this.#lastHeardMs;
  }

  /** Milliseconds since the last valid frame, on the same clock (prefer it to Date.now() - lastHeardMs). */
  get heardAgoMs(): number | undefined {
    return this.#lastHeardMs === undefined ? undefined : this.#clock.nowMs() - this.#lastHeardMs;
  }

  /** The address actually bound, once start() resolved. */
  get listenAddress(): Endpoint | undefined {
    return this.#listenAddress;
  }

  /** Sets the handler of the partner's requests (replacing any earlier one). */
  onRequest(handler: RequestHandler): void {
    this.#handler = handler;
  }

  /** Listens, and (as the dialer) starts connecting; does not wait for the partner. */
  async start(): Promise<void> {
    if (this.#state !== 'new') throw new Error(`interconnect: start() on a ${this.#state} interconnect`);
    this.#state = 'started';
    const { host, port } = this.#options.listen;
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen({ host, port, exclusive: true }, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address();
    this.#listenAddress = typeof address === 'object' && address !== null ? { host, port: address.port } : { host, port };
    this.#log.info({ listen: this.#listenAddress, role: this.role }, 'interconnect listening');
    if (this.role === 'dialer') this.#dial();
  }

  /** Ends the session (peer-down 'stopped'), every connection and the listener. */
  async stop(): Promise<void> {
    if (this.#state !== 'started') {
      this.#state = 'stopped';
      return;
    }
    this.#state = 'stopped';
    this.#cancelReconnect?.();
    const links = [...this.#links];
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const link of links) link.destroy('stopped');
    await Promise.all([closed, ...links.map((link) => link.socketClosed)]);
  }

  /** Sends a request and resolves with the partner's response body. */
  request(type: string, body: JsonValue, timeoutMs: number, attachment?: Buffer): Promise<JsonValue> {
    if (!isRequestType(type)) throw new RangeError(`interconnect: bad request type ${JSON.stringify(type)}`);
    if (!(timeoutMs > 0 && Number.isFinite(timeoutMs))) throw new RangeError(`interconnect: bad timeout ${timeoutMs}`);
    const session = this.#session;
    const partner = this.#options.partner;
    if (session === undefined) return Promise.reject(new InterconnectError('down', `${type}: no session with ${partner}`));
    if (session.pending.size >= PENDING_REQUESTS_MAX) {
      return Promise.reject(new InterconnectError('overloaded', `${type}: ${PENDING_REQUESTS_MAX} requests already await ${partner}`));
    }
    const id = session.nextRequestId++;
    return new Promise<JsonValue>((resolve, reject) => {
      const cancelTimer = this.#clock.after(timeoutMs, () => {
        if (!session.pending.delete(id)) return;
        reject(new InterconnectError('timeout', `${type}: no response from ${partner} within ${timeoutMs} ms`));
      });
      session.pending.set(id, { type, resolve, reject, cancelTimer });
      const sent = session.link.send(attachment === undefined ? { kind: 'request', id, type, body } : { kind: 'request', id, type, body, attachment });
      if (sent === 'sent') return;
      // 'closed' has already rejected it with 'down' (the session ended inside send).
      if (session.pending.delete(id)) {
        cancelTimer();
        reject(new InterconnectError(sent === 'too-large' ? 'too-large' : 'down', `${type}: request ${sent}`));
      }
    });
  }

  #accept(socket: net.Socket): void {
    const remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`;
    if (this.#state !== 'started') {
      socket.destroy();
      return;
    }
    if (this.#handshaking.size >= HANDSHAKES_IN_PROGRESS_MAX) {
      this.#log.warn({ remote, handshaking: this.#handshaking.size }, 'interconnect connection refused: too many handshakes in progress');
      socket.destroy();
      return;
    }
    const link = this.#link(socket, 'listener', remote);
    this.#handshaking.add(link);
  }

  #dial(): void {
    this.#cancelReconnect = undefined;
    if (this.#state !== 'started') return;
    const { host, port } = this.#options.dial;
    const socket = net.connect({ host, port });
    this.#dialing = this.#link(socket, 'dialer', `${host}:${port}`);
  }

  #link(socket: net.Socket, role: Role, remote: string): Link {
    const { cluster, node, partner, secret } = this.#options;
    const link = new Link({
      socket, role, remote, cluster, node, partner, secret, clock: this.#clock, log: this.#log,
      onEstablished: (established) => this.#onEstablished(established),
      onMessage: (from, message) => this.#onMessage(from, message),
      onClosed: (closed, reason) => this.#onClosed(closed, reason),
      ...(this.#options.isCut === undefined ? {} : { isCut: this.#options.isCut }),
    });
    this.#links.add(link);
    void link.socketClosed.then(() => this.#links.delete(link));
    return link;
  }

  #onEstablished(link: Link): void {
    this.#handshaking.delete(link);
    if (this.#dialing === link) this.#dialing = undefined;
    if (this.#state !== 'started') {
      link.close('stopped', 'debug');
      return;
    }
    this.#session?.link.close('replaced by a new session from the partner', 'info');
    this.#reconnectDelayMs = RECONNECT_DELAY_MIN_MS;
    const session: Session = {
      link, pending: new Map(), nextRequestId: 1, incoming: 0, cancelHeartbeat: () => {}, cancelWatchdog: () => {},
    };
    this.#session = session;
    this.#lastHeardMs = this.#clock.nowMs();
    this.#heartbeat(session);
    this.#watch(session, this.#options.peerTimeoutMs);
    this.#log.info({ remote: link.remote, role: link.role }, 'interconnect partner up');
    this.emit('peer-up', { partner: this.#options.partner, remote: link.remote, role: link.role });
  }

  #onClosed(link: Link, reason: string): void {
    this.#handshaking.delete(link);
    if (this.#dialing === link) this.#dialing = undefined;
    const session = this.#session;
    if (session?.link === link) {
      this.#session = undefined;
      session.cancelHeartbeat();
      session.cancelWatchdog();
      for (const [id, pending] of session.pending) {
        session.pending.delete(id);
        pending.cancelTimer();
        pending.reject(new InterconnectError('down', `${pending.type}: session with ${this.#options.partner} ended: ${reason}`));
      }
      this.#log.info({ reason }, 'interconnect partner down');
      this.emit('peer-down', { partner: this.#options.partner, reason });
    }
    if (link.role === 'dialer' && this.#state === 'started' && this.#dialing === undefined && this.#session === undefined) {
      this.#scheduleReconnect(session?.link === link);
    }
  }

  #scheduleReconnect(afterSession: boolean): void {
    if (this.#cancelReconnect !== undefined) return;
    const delayMs = afterSession ? RECONNECT_DELAY_MIN_MS : this.#reconnectDelayMs;
    this.#reconnectDelayMs = Math.min(delayMs * 2, RECONNECT_DELAY_MAX_MS);
    this.#log.debug({ delayMs }, 'interconnect reconnecting');
    this.#cancelReconnect = this.#clock.after(delayMs, () => this.#dial());
  }

  /** Sends a heartbeat every heartbeatIntervalMs while the session lasts. */
  #heartbeat(session: Session): void {
    session.cancelHeartbeat = this.#clock.after(this.#options.heartbeatIntervalMs, () => {
      if (this.#session !== session) return;
      session.link.send({ kind: 'heartbeat', sentAtMs: this.#clock.nowMs() });
      if (this.#session === session) this.#heartbeat(session);
    });
  }

  /** Closes the session once nothing valid arrived for peerTimeoutMs; re-arms for the rest otherwise. */
  #watch(session: Session, delayMs: number): void {
    session.cancelWatchdog = this.#clock.after(delayMs, () => {
      if (this.#session !== session) return;
      const silentMs = this.#clock.nowMs() - (this.#lastHeardMs ?? 0);
      const { peerTimeoutMs } = this.#options;
      if (silentMs >= peerTimeoutMs) session.link.close(`nothing heard for ${Math.round(silentMs)} ms (peer timeout ${peerTimeoutMs} ms)`, 'warn');
      else this.#watch(session, peerTimeoutMs - silentMs);
    });
  }

  #onMessage(link: Link, message: SessionMessage): void {
    const session = this.#session;
    if (session?.link !== link) return; // a replaced session's last frames
    const nowMs = this.#clock.nowMs();
    this.#lastHeardMs = nowMs;
    switch (message.kind) {
      case 'heartbeat':
        this.emit('heartbeat', { sentAtMs: message.sentAtMs, receivedAtMs: nowMs });
        return;
      case 'request':
        this.#serve(session, message.id, message.type, message.body, message.attachment);
        return;
      case 'response': {
        const pending = session.pending.get(message.id);
        if (pending === undefined) {
          this.#log.debug({ id: message.id }, 'interconnect response after its request timed out');
          return;
        }
        session.pending.delete(message.id);
        pending.cancelTimer();
        if (message.ok) pending.resolve(message.body);
        else pending.reject(new InterconnectError('refused', `${pending.type}: ${this.#options.partner} answered: ${message.error}`));
        return;
      }
    }
  }

  /** Runs the handler for one request of the partner and answers on the same session. */
  #serve(session: Session, id: number, type: string, body: JsonValue, attachment: Buffer | undefined): void {
    const answer = (message: SessionMessage): void => {
      if (this.#session !== session) return; // the session ended: its ids mean nothing to the next
      if (session.link.send(message) === 'too-large') {
        session.link.send({ kind: 'response', id, ok: false, error: `${type}: response exceeds a frame` });
      }
    };
    const handler = this.#handler;
    if (handler === undefined) {
      answer({ kind: 'response', id, ok: false, error: `${type}: no handler on ${this.#options.node}` });
      return;
    }
    if (session.incoming >= INCOMING_REQUESTS_MAX) {
      answer({ kind: 'response', id, ok: false, error: `${type}: busy, ${INCOMING_REQUESTS_MAX} requests in progress` });
      return;
    }
    session.incoming++;
    Promise.resolve()
      .then(() => handler(type, body, attachment))
      .then(
        (result) => answer({ kind: 'response', id, ok: true, body: result }),
        (error: unknown) => answer({ kind: 'response', id, ok: false, error: messageOf(error).slice(0, ERROR_CHARS_MAX) }),
      )
      .finally(() => session.incoming--);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function checkOptions(options: InterconnectOptions): void {
  const { node, partner, cluster, secret, heartbeatIntervalMs, peerTimeoutMs } = options;
  for (const [key, name] of [['node', node], ['partner', partner], ['cluster', cluster]] as const) {
    if (name.length === 0 || name.length > NAME_CHARS_MAX) throw new RangeError(`interconnect: ${key} must have 1 to ${NAME_CHARS_MAX} characters`);
  }
  if (node === partner) throw new RangeError(`interconnect: node and partner are both ${JSON.stringify(node)}`);
  if (secret.length < SECRET_BYTES_MIN) throw new RangeError(`interconnect: the cluster secret needs at least ${SECRET_BYTES_MIN} bytes`);
  if (!(heartbeatIntervalMs > 0)) throw new RangeError('interconnect: heartbeatIntervalMs must be positive');
  if (!(peerTimeoutMs > heartbeatIntervalMs)) throw new RangeError('interconnect: peerTimeoutMs must exceed heartbeatIntervalMs');
}

export type { CancelTimer, InterconnectClock, JsonValue, Role };
