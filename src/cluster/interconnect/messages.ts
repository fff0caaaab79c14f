// The messages of an authenticated interconnect session (the bodies of sealed frames), and
// their strict parsing. Layer: cluster/interconnect.
//
//   { kind: 'heartbeat', sentAtMs }
//   { kind: 'request', id, type, body, attachment? }    id: per session and direction, from 1
//   { kind: 'response', id, ok: true, body }
//   { kind: 'response', id, ok: false, error }          the handler failed, is busy, or missing
//
// A frame's body is `JSON length (4 bytes, big-endian) | JSON | attachment`. The attachment is
// bytes a request carries beside its JSON (the reply mirror's packed replies), so bytes cross
// with one copy instead of base64 inside JSON (the figures are in runtime/reply-mirror.ts).
//
// The peer has proven the secret, but a peer of another version or with a bug may still send
// something else: that is a protocol violation that ends the session, never a crash.

/** What a request or response body may hold: exactly what survives JSON. */
export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** The longest request type name. */
export const REQUEST_TYPE_CHARS_MAX = 64;
/** The longest error text of a failed response (longer texts are cut). */
export const ERROR_CHARS_MAX = 1024;

export type SessionMessage =
  | { readonly kind: 'heartbeat'; readonly sentAtMs: number }
  | { readonly kind: 'request'; readonly id: number; readonly type: string; readonly body: JsonValue; readonly attachment?: Buffer }
  | { readonly kind: 'response'; readonly id: number; readonly ok: true; readonly body: JsonValue }
  | { readonly kind: 'response'; readonly id: number; readonly ok: false; readonly error: string };

const isId = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value > 0;

export const isRequestType = (value: unknown): value is string =>
  typeof value === 'string' && value.length > 0 && value.length <= REQUEST_TYPE_CHARS_MAX;

const JSON_LENGTH_BYTES = 4;

/** Parses a session body; returns a reason instead when it is not a session message. */
export function parseSessionMessage(body: Buffer): SessionMessage | { readonly malformed: string } {
  if (body.length < JSON_LENGTH_BYTES) return { malformed: `message of ${body.length} bytes has no JSON length` };
  const jsonEnd = JSON_LENGTH_BYTES + body.readUInt32BE(0);
  if (jsonEnd > body.length) return { malformed: `JSON of ${jsonEnd - JSON_LENGTH_BYTES} bytes in a message of ${body.length}` };
  const attachment = jsonEnd < body.length ? body.subarray(jsonEnd) : undefined;
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8', JSON_LENGTH_BYTES, jsonEnd));
  } catch {
    return { malformed: 'message is not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { malformed: 'message is not an object' };
  const message = value as Record<string, unknown>;
  const { kind, id } = message;
  if (attachment !== undefined && kind !== 'request') return { malformed: `a ${String(kind)} message with an attachment` };
  switch (kind) {
    case 'heartbeat': {
      const { sentAtMs } = message;
      if (typeof sentAtMs !== 'number' || !Number.isFinite(sentAtMs)) return { malformed: 'heartbeat without sentAtMs' };
      return { kind, sentAtMs };
    }
    case 'request': {
      const { type } = message;
      if (!isId(id) || !isRequestType(type) || !('body' in message)) return { malformed: 'request without id, type or body' };
      const request = { kind, id, type, body: message['body'] as JsonValue } as const;
      return attachment === undefined ? request : { ...request, attachment };
    }
    case 'response': {
      const { ok, error } = message;
      if (!isId(id)) return { malformed: 'response without id' };
      if (ok === true && 'body' in message) return { kind, id, ok, body: message['body'] as JsonValue };
      if (ok === false && typeof error === 'string') return { kind, id, ok, error: error.slice(0, ERROR_CHARS_MAX) };
      return { malformed: 'response without ok and body or error' };
    }
    default:
      return { malformed: `unknown message kind ${JSON.stringify(kind)}` };
  }
}

export function encodeSessionMessage(message: SessionMessage): Buffer {
  const attachment = message.kind === 'request' ? message.attachment : undefined;
  const json = JSON.stringify(attachment === undefined ? message : { ...message, attachment: undefined });
  const jsonBytes = Buffer.byteLength(json, 'utf8');
  const body = Buffer.allocUnsafe(JSON_LENGTH_BYTES + jsonBytes + (attachment?.length ?? 0));
  body.writeUInt32BE(jsonBytes, 0);
  body.write(json, JSON_LENGTH_BYTES, 'utf8');
  attachment?.copy(body, JSON_LENGTH_BYTES + jsonBytes);
  return body;
}
