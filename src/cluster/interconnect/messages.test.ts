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

test('messages: a request carries its attachment beside the JSON, byte for byte', () => {
  // Goal: bytes (the reply mirror's packed replies) cross without base64, and come back equal.
  const attachment = Buffer.from([0, 1, 2, 0xff, 0x7b, 0x22]);
  const request: SessionMessage = { kind: 'request', id: 3, type: 'mirror', body: { filer: 'a', epoch: '5' }, attachment };
  const parsed = parseSessionMessage(encodeSessionMessage(request));
  assert.deepEqual(parsed, request);
  const body = encodeSessionMessage({ kind: 'request', id: 3, type: 'mirror', body: null });
  assert.equal(body.readUInt32BE(0), body.length - 4, 'no attachment: the JSON is the rest of the body');
  assert.equal('attachment' in parseSessionMessage(body), false);
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
    const parsed = parseSessionMessage(withJsonLength(Buffer.from(body)));
    assert.ok('malformed' in parsed, body);
  }
});

test('messages: a JSON length that does not fit the body, or an attachment on anything but a request, is malformed', () => {
  // Goal: the length prefix is checked before anything is read past it.
  const heartbeat = Buffer.from('{"kind":"heartbeat","sentAtMs":1}');
  const framed = withJsonLength(heartbeat);
  assert.ok('malformed' in parseSessionMessage(Buffer.alloc(3)), 'shorter than the length');
  const overlong = Buffer.from(framed);
  overlong.writeUInt32BE(heartbeat.length + 1, 0);
  assert.match(String((parseSessionMessage(overlong) as { malformed: string }).malformed), /JSON of \d+ bytes in a message of/);
  assert.match(String((parseSessionMessage(Buffer.concat([framed, Buffer.from([1])])) as { malformed: string }).malformed), /heartbeat message with an attachment/);
  assert.deepEqual(parseSessionMessage(framed), { kind: 'heartbeat', sentAtMs: 1 });
});

/** `json` as a session body without attachment. */
function withJsonLength(json: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length, 0);
  return Buffer.concat([length, json]);
}
