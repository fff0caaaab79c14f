// The core's peer messages as the interconnect carries them: JSON, with epochs as decimal
// strings. Layer: cluster/runtime. The partner is authenticated, but its messages are still
// validated field by field: a message that does not parse is dropped (the core tolerates loss),
// never passed on half-formed.

import type { OperationCause, PeerMessage, PhaseTimings } from '../core/types.js';
import type { JsonValue } from '../interconnect/interconnect.js';

/** An epoch on the wire: a decimal string (JSON numbers lose precision past 2^53). */
export const EPOCH_PATTERN = /^(0|[1-9]\d{0,19})$/;
const KINDS = new Set(['takeover', 'giveback']);
const CAUSES = new Set<string>(['operator', 'failure', 'force', 'fault', 'auto'] satisfies OperationCause[]);
const PHASES = new Set(['detect', 'check', 'negotiate', 'drain', 'release', 'claim', 'serve', 'total']);

export function messageToWire(message: PeerMessage): JsonValue {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(message)) out[key] = typeof value === 'bigint' ? value.toString() : (value as JsonValue);
  return out;
}

/** The message in `body`, or a string saying why it is not one. */
export function messageFromWire(body: JsonValue): PeerMessage | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const fields = body as { readonly [key: string]: JsonValue };
  const text = (key: string): string | undefined => (typeof fields[key] === 'string' ? (fields[key] as string) : undefined);
  const count = (key: string): number | undefined =>
    typeof fields[key] === 'number' && Number.isSafeInteger(fields[key]) && (fields[key] as number) >= 0 ? (fields[key] as number) : undefined;
  const epochOf = (key: string): bigint | undefined => {
    const value = text(key);
    return value !== undefined && EPOCH_PATTERN.test(value) ? BigInt(value) : undefined;
  };
  const filer = text('filer');
  if (fields.type === 'help') {
    const epoch = epochOf('epoch');
    const reason = text('reason');
    if (filer === undefined || epoch === undefined || reason === undefined) return 'help needs a filer, an epoch and a reason';
    return { type: 'help', filer, epoch, reason };
  }
  const op = text('op');
  if (op === undefined || filer === undefined) return 'op and filer must be strings';
  switch (fields.type) {
    case 'release-request': {
      const kind = text('kind');
      const epoch = epochOf('epoch');
      if (kind === undefined || !KINDS.has(kind) || epoch === undefined) return 'release-request needs kind and epoch';
      const cause = text('cause');
      if (cause !== undefined && !CAUSES.has(cause)) return `release-request has an unknown cause ${JSON.stringify(cause)}`;
      const request = { type: 'release-request', op, filer, kind: kind as 'takeover' | 'giveback', epoch } as const;
      return cause === undefined ? request : { ...request, cause: cause as OperationCause };
    }
    case 'release-refused': {
      const reason = text('reason');
      return reason === undefined ? 'release-refused needs a reason' : { type: 'release-refused', op, filer, reason };
    }
    case 'release-accepted':
      return { type: 'release-accepted', op, filer };
    case 'released': {
      const epoch = epochOf('epoch');
      const drainMs = count('drainMs');
      const releaseMs = count('releaseMs');
      const undrained = count('undrained');
      if (epoch === undefined || drainMs === undefined || releaseMs === undefined || undrained === undefined) return 'released needs epoch and timings';
      return { type: 'released', op, filer, epoch, drainMs, releaseMs, undrained };
    }
    case 'acquired': {
      const epoch = epochOf('epoch');
      const phases = phasesOf(fields.phases);
      if (epoch === undefined || phases === undefined) return 'acquired needs an epoch and phase timings';
      return { type: 'acquired', op, filer, epoch, phases };
    }
    default:
      return `unknown message type ${JSON.stringify(fields.type)}`;
  }
}

/** Phase timings: known phase names with non-negative finite milliseconds. */
function phasesOf(value: JsonValue | undefined): PhaseTimings | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const phases: Record<string, number> = {};
  for (const [name, ms] of Object.entries(value as { readonly [key: string]: JsonValue })) {
    if (!PHASES.has(name) || typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) return undefined;
    phases[name] = ms;
  }
  return phases as PhaseTimings;
}

/**
 * The frame of a per-filer batch on the wire ({filer, epoch, [field]: list of at most `max`}),
 * or why it is not one; the items are left to the caller to check.
 */
export function filerBatchFromWire(body: unknown, field: string, max: number): { filer: string; epoch: bigint; items: unknown[] } | string {
  const head = filerEpochFromWire(body);
  if (typeof head === 'string') return head;
  const items = (body as Record<string, unknown>)[field];
  if (!Array.isArray(items) || items.length > max) return `${field} must be a list of at most ${max}`;
  return { ...head, items: items as unknown[] };
}

/** The filer and epoch a message of one filer's server names. */
export function filerEpochFromWire(body: unknown): { filer: string; epoch: bigint } | string {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return 'not an object';
  const { filer, epoch } = body as Record<string, unknown>;
  if (typeof filer !== 'string' || typeof epoch !== 'string' || !EPOCH_PATTERN.test(epoch)) return 'filer and epoch must be strings';
  return { filer, epoch: BigInt(epoch) };
}
