// The mutual handshake of the interconnect: both partners prove they hold the cluster secret
// without sending it, and derive a key for this session only. Layer: cluster/interconnect.
// Pure: no sockets, no clock; `Handshake` consumes payloads and says what to send or why to refuse.
//
//   dialer                                             listener
//     |-- hello { cluster, node, nonce, version } ------>|   (both send hello at once)
//     |<-- hello { cluster, node, nonce, version } ------|
//     |-- proof { HMAC(secret, transcript(dialer)) } --->|   (each after reading the other's hello)
//     |<-- proof { HMAC(secret, transcript(listener)) } -|
//   session key = HMAC(secret, "session" | cluster | version | both nodes | both nonces)
//
// transcript(role) = label | "proof" | role | cluster | version | own node | peer node | own
// nonce | peer nonce, each field length-prefixed so no two field lists encode alike. The role
// stops a proof from being reflected back to its sender; the fresh nonces of both sides stop a
// recorded proof from passing again; cluster and version are bound in, so a man in the middle
// cannot alter the (unauthenticated) hellos without the proofs failing. Proofs are compared with
// timingSafeEqual. A refusal may be announced to the peer as `refused { reason }`: a courtesy for
// the operator on the other side, never trusted for anything.

import { createHmac, timingSafeEqual } from 'node:crypto';

export const PROTOCOL_LABEL = 'tandem-interconnect-v1';
/** 2: a session body is a JSON length, the JSON and an attachment (messages.ts); 1 was JSON alone. */
export const PROTOCOL_VERSION = 2;
export const NONCE_BYTES = 32;
const DIGEST_BYTES = 32;
/** The longest cluster or node name a hello may carry. */
export const NAME_CHARS_MAX = 128;
/** The longest refusal reason sent or logged. */
export const REASON_CHARS_MAX = 256;

export type Role = 'dialer' | 'listener';

export interface Hello {
  readonly kind: 'hello';
  readonly cluster: string;
  readonly node: string;
  readonly nonce: string;
  readonly version: number;
}
export interface Proof {
  readonly kind: 'proof';
  readonly proof: string;
}
export interface Refusal {
  readonly kind: 'refused';
  readonly reason: string;
}
export type HandshakeMessage = Hello | Proof | Refusal;

/** Which role a node takes towards its partner: the name that sorts first dials. */
export function roleOf(node: string, partner: string): Role {
  return node < partner ? 'dialer' : 'listener';
}

/** Fields joined with 4-byte big-endian length prefixes: an unambiguous encoding. */
function transcript(fields: readonly string[]): Buffer {
  const parts: Buffer[] = [];
  for (const field of fields) {
    const bytes = Buffer.from(field, 'utf8');
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(bytes.length, 0);
    parts.push(length, bytes);
  }
  return Buffer.concat(parts);
}

export interface ProofInput {
  readonly secret: Buffer;
  readonly role: Role;
  readonly cluster: string;
  readonly ownNode: string;
  readonly peerNode: string;
  readonly ownNonce: string;
  readonly peerNonce: string;
}

/** The proof a node of `role` sends: HMAC-SHA256 over its transcript, keyed by the secret. */
export function proofOf(input: ProofInput): Buffer {
  const fields = [PROTOCOL_LABEL, 'proof', input.role, input.cluster, String(PROTOCOL_VERSION),
    input.ownNode, input.peerNode, input.ownNonce, input.peerNonce];
  return createHmac('sha256', input.secret).update(transcript(fields)).digest();
}

export interface SessionKeyInput {
  readonly secret: Buffer;
  readonly cluster: string;
  readonly dialerNode: string;
  readonly listenerNode: string;
  readonly dialerNonce: string;
  readonly listenerNonce: string;
}

/** The key of one session: fresh nonces from both sides make every session's key its own. */
export function sessionKeyOf(input: SessionKeyInput): Buffer {
  const fields = [PROTOCOL_LABEL, 'session', input.cluster, String(PROTOCOL_VERSION),
    input.dialerNode, input.listenerNode, input.dialerNonce, input.listenerNonce];
  return createHmac('sha256', input.secret).update(transcript(fields)).digest();
}

const isName = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= NAME_CHARS_MAX;
const HEX_DIGEST = /^[0-9a-f]{64}$/;

/** Parses a handshake payload (JSON); returns a reason instead when it is not one. */
export function parseHandshakeMessage(payload: Buffer): HandshakeMessage | { readonly malformed: string } {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return { malformed: 'handshake message is not JSON' };
  }
  if (typeof value !== 'object' || value === null) return { malformed: 'handshake message is not an object' };
  const message = value as Record<string, unknown>;
  switch (message['kind']) {
    case 'hello': {
      const { cluster, node, nonce, version } = message;
      if (!isName(cluster) || !isName(node)) return { malformed: 'hello without a valid cluster or node name' };
      if (typeof nonce !== 'string' || !HEX_DIGEST.test(nonce)) return { malformed: `hello without a ${NONCE_BYTES}-byte hex nonce` };
      if (typeof version !== 'number' || !Number.isSafeInteger(version)) return { malformed: 'hello without a version' };
      return { kind: 'hello', cluster, node, nonce, version };
    }
    case 'proof': {
      const { proof } = message;
      if (typeof proof !== 'string' || !HEX_DIGEST.test(proof)) return { malformed: 'proof is not a hex HMAC-SHA256' };
      return { kind: 'proof', proof };
    }
    case 'refused': {
      const { reason } = message;
      return { kind: 'refused', reason: typeof reason === 'string' ? reason.slice(0, REASON_CHARS_MAX) : '(no reason)' };
    }
    default:
      return { malformed: 'unknown handshake message' };
  }
}

export function encodeHandshakeMessage(message: HandshakeMessage): Buffer {
  return Buffer.from(JSON.stringify(message), 'utf8');
}

export interface HandshakeOptions {
  /** Our side of this connection: 'dialer' if we connected, 'listener' if we accepted. */
  readonly role: Role;
  readonly cluster: string;
  readonly node: string;
  readonly partner: string;
  readonly secret: Buffer;
  /** NONCE_BYTES random bytes, fresh for this connection. */
  readonly nonce: Buffer;
}

/** What to do after a handshake payload: send, finish with a session key, or refuse. */
export type HandshakeStep =
  | { readonly action: 'send'; readonly payload: Buffer }
  | { readonly action: 'established'; readonly sessionKey: Buffer }
  | { readonly action: 'refuse'; readonly reason: string; readonly tellPeer: boolean }
  | { readonly action: 'refused-by-peer'; readonly reason: string };

/** One side of one handshake: hello, then the peer's hello, then the peer's proof. */
export class Handshake {
  readonly #options: HandshakeOptions;
  readonly #nonce: string;
  #peerNonce: string | undefined;
  #done = false;

  constructor(options: HandshakeOptions) {
    if (options.nonce.length !== NONCE_BYTES) throw new RangeError(`a nonce has ${NONCE_BYTES} bytes`);
    this.#options = options;
    this.#nonce = options.nonce.toString('hex');
  }

  /** The hello to send first, before anything is received. */
  hello(): Buffer {
    const { cluster, node } = this.#options;
    return encodeHandshakeMessage({ kind: 'hello', cluster, node, nonce: this.#nonce, version: PROTOCOL_VERSION });
  }

  /** Consumes one payload of the peer. After 'established' or a refusal, nothing more is accepted. */
  receive(payload: Buffer): HandshakeStep {
    if (this.#done) throw new Error('handshake already finished'); // the caller switches to the session
    const message = parseHandshakeMessage(payload);
    const step = 'malformed' in message ? refuse(message.malformed) : this.#step(message);
    if (step.action !== 'send') this.#done = true;
    return step;
  }

  #step(message: HandshakeMessage): HandshakeStep {
    if (message.kind === 'refused') return { action: 'refused-by-peer', reason: message.reason };
    if (this.#peerNonce === undefined) {
      return message.kind === 'hello' ? this.#onHello(message) : refuse(`expected hello, got ${message.kind}`);
    }
    return message.kind === 'proof' ? this.#onProof(message) : refuse(`expected proof, got ${message.kind}`);
  }

  #onHello(hello: Hello): HandshakeStep {
    const { cluster, node, partner, role } = this.#options;
    if (hello.version !== PROTOCOL_VERSION) return refuse(`protocol version ${hello.version}, we speak ${PROTOCOL_VERSION}`, true);
    if (hello.cluster !== cluster) return refuse(`cluster ${JSON.stringify(hello.cluster)} is not ours (${JSON.stringify(cluster)})`, true);
    if (hello.node !== partner) return refuse(`node ${JSON.stringify(hello.node)} is not our partner (${JSON.stringify(partner)})`, true);
    if (role !== roleOf(node, partner)) {
      return refuse(`${JSON.stringify(partner)} connected to us, but ${JSON.stringify(roleOf(node, partner) === 'dialer' ? node : partner)} dials (its name sorts first)`, true);
    }
    // Our own nonce coming back is a reflection (or a miracle): either way not a partner.
    if (hello.nonce === this.#nonce) return refuse('hello reflects our own nonce');
    this.#peerNonce = hello.nonce;
    const proof = proofOf(this.#proofInput(role, node, partner, this.#nonce, hello.nonce));
    return { action: 'send', payload: encodeHandshakeMessage({ kind: 'proof', proof: proof.toString('hex') }) };
  }

  #onProof(message: Proof): HandshakeStep {
    const { node, partner, role, secret, cluster } = this.#options;
    const peerNonce = this.#peerNonce!;
    const peerRole: Role = role === 'dialer' ? 'listener' : 'dialer';
    const expected = proofOf(this.#proofInput(peerRole, partner, node, peerNonce, this.#nonce));
    const received = Buffer.from(message.proof, 'hex');
    if (received.length !== DIGEST_BYTES || !timingSafeEqual(received, expected)) {
      return refuse('proof does not match: the partner holds a different cluster secret');
    }
    const dialer = role === 'dialer';
    return {
      action: 'established',
      sessionKey: sessionKeyOf({
        secret,
        cluster,
        dialerNode: dialer ? node : partner,
        listenerNode: dialer ? partner : node,
        dialerNonce: dialer ? this.#nonce : peerNonce,
        listenerNonce: dialer ? peerNonce : this.#nonce,
      }),
    };
  }

  #proofInput(role: Role, ownNode: string, peerNode: string, ownNonce: string, peerNonce: string): ProofInput {
    return { secret: this.#options.secret, role, cluster: this.#options.cluster, ownNode, peerNode, ownNonce, peerNonce };
  }
}

function refuse(reason: string, tellPeer = false): HandshakeStep {
  return { action: 'refuse', reason, tellPeer };
}
