// One TCP connection between the partners, from hello to close: frames the byte stream, runs
// the handshake, then seals and opens session frames. Layer: cluster/interconnect.
//
// A Link knows nothing of requests, heartbeats or which connection is current: it reports
// `established`, each session message, and `closed` with the reason (exactly once, at the
// moment it decides to close, so its owner's state never lags behind the socket). Every
// violation (a frame too large, a bad tag, a seq out of order, a malformed message, a handshake
// that fails or takes longer than HANDSHAKE_TIMEOUT_MS, a partner that stops reading) closes the
// connection with a warning naming the reason and the remote address. The secret and the
// session key are never logged.

import { randomBytes } from 'node:crypto';
import type net from 'node:net';
import type { Logger } from '../../platform/logger.js';
import type { CancelTimer, InterconnectClock } from './clock.js';
import { FRAME_BYTES_MAX, FrameDecoder, FrameTooLargeError, HANDSHAKE_FRAME_BYTES_MAX, frameHeader } from './framing.js';
import { Handshake, NONCE_BYTES, REASON_CHARS_MAX, encodeHandshakeMessage, type Role } from './handshake.js';
import { encodeSessionMessage, parseSessionMessage, type SessionMessage } from './messages.js';
import { SEALED_OVERHEAD_BYTES, SessionSeal } from './sealing.js';

/** From the socket's creation (so it covers connecting too) to a verified proof. */
export const HANDSHAKE_TIMEOUT_MS = 5000;
/** Bytes queued for a partner that does not read; past this the session is closed. */
export const WRITE_BUFFER_BYTES_MAX = 4 * FRAME_BYTES_MAX;
/** How long a refused peer gets to read our refusal before the socket is destroyed. */
export const REFUSAL_LINGER_MS = 1000;
/** The largest body of a session message: a frame less its tag and seq. */
export const MESSAGE_BYTES_MAX = FRAME_BYTES_MAX - SEALED_OVERHEAD_BYTES;

export type SendResult = 'sent' | 'too-large' | 'closed';
export type CloseLevel = 'warn' | 'info' | 'debug';

export interface LinkOptions {
  readonly socket: net.Socket;
  /** 'dialer' when we connected, 'listener' when we accepted. */
  readonly role: Role;
  /** host:port of the other end, for logs. */
  readonly remote: string;
  readonly cluster: string;
  readonly node: string;
  readonly partner: string;
  readonly secret: Buffer;
  readonly clock: InterconnectClock;
  readonly log: Logger;
  readonly onEstablished: (link: Link) => void;
  readonly onMessage: (link: Link, message: SessionMessage) => void;
  readonly onClosed: (link: Link, reason: string) => void;
  /** Fault injection (tests): while it says true, nothing is sent or received, as on a cut cable. */
  readonly isCut?: () => boolean;
}

export class Link {
  readonly role: Role;
  readonly remote: string;
  /** Resolves once the socket is fully closed. */
  readonly socketClosed: Promise<void>;
  readonly #options: LinkOptions;
  readonly #socket: net.Socket;
  readonly #log: Logger;
  readonly #decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
  readonly #handshake: Handshake;
  #seal: SessionSeal | undefined;
  #state: 'handshake' | 'established' | 'closed' = 'handshake';
  #cancelTimer: CancelTimer;

  constructor(options: LinkOptions) {
    this.#options = options;
    this.role = options.role;
    this.remote = options.remote;
    this.#socket = options.socket;
    this.#log = options.log.child({ remote: options.remote, role: options.role });
    const { cluster, node, partner, secret } = options;
    this.#handshake = new Handshake({ role: options.role, cluster, node, partner, secret, nonce: randomBytes(NONCE_BYTES) });
    this.socketClosed = new Promise((resolve) => this.#socket.once('close', () => resolve()));
    this.#socket.setNoDelay(true);
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (error: NodeJS.ErrnoException) => this.close(`socket error: ${error.code ?? error.message}`, 'debug'));
    this.#socket.on('close', () => {
      this.#cancelTimer();
      this.close('connection closed by the partner', 'info');
    });
    this.#cancelTimer = options.clock.after(HANDSHAKE_TIMEOUT_MS, () => {
      if (this.#state === 'handshake') this.#refuse(`no handshake within ${HANDSHAKE_TIMEOUT_MS} ms`, false);
    });
    this.#write(this.#handshake.hello());
  }

  get established(): boolean {
    return this.#state === 'established';
  }

  get isClosed(): boolean {
    return this.#state === 'closed';
  }

  /** Seals and writes one session message. */
  send(message: SessionMessage): SendResult {
    if (this.#state !== 'established') return 'closed';
    const body = encodeSessionMessage(message);
    if (body.length > MESSAGE_BYTES_MAX) return 'too-large';
    this.#write(this.#seal!.seal(body));
    if (this.#socket.writableLength > WRITE_BUFFER_BYTES_MAX) {
      this.close(`partner does not read: ${this.#socket.writableLength} bytes queued`, 'warn');
      return 'closed';
    }
    return 'sent';
  }

  /** Ends the connection at once; reports `closed` to the owner unless it was already closed. */
  close(reason: string, level: CloseLevel): void {
    if (this.#state === 'closed') return;
    const wasEstablished = this.#state === 'established';
    this.#state = 'closed';
    this.#cancelTimer();
    this.#socket.destroy();
    this.#log[level]({ reason }, wasEstablished ? 'interconnect session closed' : 'interconnect connection closed');
    this.#options.onClosed(this, reason);
  }

  /** Destroys the socket whatever the state (a refused peer still reading our refusal, too). */
  destroy(reason: string): void {
    this.close(reason, 'info');
    this.#socket.destroy();
  }

  #write(payload: Buffer): void {
    if (this.#options.isCut?.() === true) return;
    this.#socket.write(frameHeader(payload.length));
    this.#socket.write(payload);
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'closed' || this.#options.isCut?.() === true) return;
    this.#decoder.push(chunk);
    for (;;) {
      let payload: Buffer | undefined;
      try {
        payload = this.#decoder.next();
      } catch (error) {
        if (!(error instanceof FrameTooLargeError)) throw error;
        this.#violation(error.message);
        return;
      }
      if (payload === undefined) return;
      if (this.#state === 'handshake') this.#onHandshakePayload(payload);
      else this.#onSessionPayload(payload);
      if (this.isClosed) return; // a handler above may have closed it
    }
  }

  #onHandshakePayload(payload: Buffer): void {
    const step = this.#handshake.receive(payload);
    switch (step.action) {
      case 'send':
        this.#write(step.payload);
        return;
      case 'refuse':
        this.#refuse(step.reason, step.tellPeer);
        return;
      case 'refused-by-peer':
        this.#log.warn({ reason: step.reason }, 'interconnect partner refused us');
        this.close(`refused by the partner: ${step.reason}`, 'debug');
        return;
      case 'established':
        this.#cancelTimer();
        this.#seal = new SessionSeal(step.sessionKey, this.role);
        this.#decoder.frameBytesMax = FRAME_BYTES_MAX;
        this.#state = 'established';
        this.#log.debug('interconnect session established');
        this.#options.onEstablished(this);
        return;
    }
  }

  #onSessionPayload(payload: Buffer): void {
    const opened = this.#seal!.open(payload);
    if (!opened.ok) {
      this.#violation(opened.reason);
      return;
    }
    const message = parseSessionMessage(opened.body);
    if ('malformed' in message) {
      this.#violation(message.malformed);
      return;
    }
    this.#options.onMessage(this, message);
  }

  /** A peer that is not (or not yet) our authenticated partner: refused, with a warning. */
  #refuse(reason: string, tellPeer: boolean): void {
    this.#log.warn({ reason }, 'interconnect peer refused');
    if (!tellPeer) {
      this.close(`refused: ${reason}`, 'debug');
      return;
    }
    // Let the peer read why, then end; destroy if it does not close its side in time.
    this.#write(encodeHandshakeMessage({ kind: 'refused', reason: reason.slice(0, REASON_CHARS_MAX) }));
    this.#socket.end();
    const linger = this.#options.clock.after(REFUSAL_LINGER_MS, () => this.#socket.destroy());
    this.#socket.once('close', linger);
    this.#state = 'closed';
    this.#cancelTimer();
    this.#options.onClosed(this, `refused: ${reason}`);
  }

  /** A protocol violation: the connection ends with a warning. */
  #violation(reason: string): void {
    this.close(`protocol violation: ${reason}`, 'warn');
  }
}
