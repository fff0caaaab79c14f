// Tests of session message parsing: each kind round-trips, and anything else is named malformed
// rather than trusted or thrown.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeSessionMessage, parseSessionMessage, type SessionMessage } from './messages.js';

test('messages: heartbeats, requests and both kinds of response round-trip', () => {
  // Goal: what encodeSessionMessage writes, parseSessionMessage reads back unchanged.
  const messages: SessionMessage[] = [
    { kind: 'heartbeat', sentAtMs: 1234.5 },
    { kind: 'request', id: 1, type: 'takeover-request', body: { filer: 'a', epoch: 7, list: [1, 'x', null] } },
    { kind: 'response', id: 1, ok: true, body: null },
    { kind: 'response', id: 2, ok: false, error: 'filer a is busy' },
  ];
  for (const message of messages) assert.deepEqual(parseSessionMessage(encodeSessionMessage(message)), message);
});

test('messages: malformed bodies are named, never thrown', () => {
  // Goal: a partner of another version or with a bug gets a reason, not a crash.
  const bodies = [
    'not json', '[1]', 'null', '{"kind":"gossip"}', '{"kind":"heartbeat"}', '{"kind":"request","id":0,"type":"x","body":1}',
    '{"kind":"request","id":1,"type":"","body":1}', `{"kind":"request","id":1,"type":"${'t'.repeat(65)}","body":1}`,
    '{"kind":"request","id":1,"type":"x"}', '{"kind":"response","id":1,"ok":true}', '{"kind":"response","id":1,"ok":false}',
    '{"kind":"response","ok":true,"body":1}',
  ];
  for (const body of bodies) {
    const parsed = parseSessionMessage(Buffer.from(body));
    assert.ok('malformed' in parsed, body);
  }
});
