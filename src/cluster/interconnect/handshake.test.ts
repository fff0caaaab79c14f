// Tests of the handshake without sockets: two Handshake objects exchange their payloads the way
// two partners would. Matching secrets agree on a fresh key; every mismatch is refused with its
// reason; proofs are bound to role, nonces, names, cluster and version.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Handshake, PROTOCOL_VERSION, encodeHandshakeMessage, proofOf, roleOf, type HandshakeOptions, type HandshakeStep } from './handshake.js';

const secret = Buffer.from('the cluster secret, 32 bytes....', 'utf8');

function sides(dialer: Partial<HandshakeOptions> = {}, listener: Partial<HandshakeOptions> = {}) {
  return {
    a: new Handshake({ role: 'dialer', cluster: 'c', node: 'a', partner: 'b', secret, nonce: randomBytes(32), ...dialer }),
    b: new Handshake({ role: 'listener', cluster: 'c', node: 'b', partner: 'a', secret, nonce: randomBytes(32), ...listener }),
  };
}

function sent(step: HandshakeStep): Buffer {
  assert.equal(step.action, 'send', JSON.stringify(step));
  return (step as { payload: Buffer }).payload;
}

/** Runs both sides to the end: hellos, then proofs; returns each side's last step. */
function exchange(a: Handshake, b: Handshake): { a: HandshakeStep; b: HandshakeStep } {
  const helloA = a.hello();
  const helloB = b.hello();
  const afterHelloA = a.receive(helloB);
  const afterHelloB = b.receive(helloA);
  if (afterHelloA.action !== 'send' || afterHelloB.action !== 'send') return { a: afterHelloA, b: afterHelloB };
  return { a: a.receive(afterHelloB.payload), b: b.receive(afterHelloA.payload) };
}

test('handshake: partners with one secret agree on a session key that no other session shares', () => {
  // Goal: mutual proofs pass and both sides derive the same key, different for every pair of nonces.
  const first = sides();
  const result = exchange(first.a, first.b);
  assert.equal(result.a.action, 'established');
  assert.equal(result.b.action, 'established');
  const keyA = (result.a as { sessionKey: Buffer }).sessionKey;
  assert.deepEqual(keyA, (result.b as { sessionKey: Buffer }).sessionKey);
  const second = sides();
  const again = exchange(second.a, second.b);
  assert.notDeepEqual((again.a as { sessionKey: Buffer }).sessionKey, keyA);
});

test('handshake: a different secret fails the proof on both sides', () => {
  // Goal: neither side accepts the other, and neither is told anything it could use.
  const { a, b } = sides({ secret: Buffer.from('another secret, also 32 bytes...') });
  const result = exchange(a, b);
  for (const step of [result.a, result.b]) {
    assert.deepEqual(step, { action: 'refuse', reason: 'proof does not match: the partner holds a different cluster secret', tellPeer: false });
  }
});

test('handshake: wrong cluster, wrong node, wrong version and wrong role are refused after hello, with the reason for the peer', () => {
  // Goal: each mismatch is named, and the peer may be told (these reasons reveal nothing secret).
  const cases: [Partial<HandshakeOptions>, Partial<HandshakeOptions>, RegExp][] = [
    [{ cluster: 'other' }, {}, /cluster "other" is not ours \("c"\)/],
    [{ node: 'a0' }, {}, /node "a0" is not our partner \("a"\)/],
    // b configured so that b dials: it must refuse a's connection.
    [{}, { node: 'b', partner: 'c' }, /node "a" is not our partner/],
  ];
  for (const [dialer, listener, reason] of cases) {
    const { a, b } = sides(dialer, listener);
    b.hello();
    const step = b.receive(a.hello());
    assert.equal(step.action, 'refuse');
    assert.match((step as { reason: string }).reason, reason);
    assert.equal((step as { tellPeer: boolean }).tellPeer, true);
  }
  const wrongRole = new Handshake({ role: 'listener', cluster: 'c', node: 'a', partner: 'b', secret, nonce: randomBytes(32) });
  const b = sides().b;
  const step = wrongRole.receive(b.hello());
  assert.match((step as { reason: string }).reason, /"b" connected to us, but "a" dials/);
  const future = new Handshake({ role: 'listener', cluster: 'c', node: 'b', partner: 'a', secret, nonce: randomBytes(32) });
  const hello = { kind: 'hello', cluster: 'c', node: 'a', nonce: randomBytes(32).toString('hex'), version: PROTOCOL_VERSION + 1 } as const;
  const refusal = new RegExp(`protocol version ${PROTOCOL_VERSION + 1}, we speak ${PROTOCOL_VERSION}`);
  assert.match((future.receive(encodeHandshakeMessage(hello)) as { reason: string }).reason, refusal);
});

test('handshake: a reflected hello or proof, and messages out of order, are refused', () => {
  // Goal: a stranger cannot pass by echoing our own messages back to us.
  const { a } = sides();
  const ownHello = JSON.parse(String(a.hello())) as Record<string, unknown>;
  const reflectedHello = { ...ownHello, node: 'b' };
  assert.deepEqual(a.receive(Buffer.from(JSON.stringify(reflectedHello))), { action: 'refuse', reason: 'hello reflects our own nonce', tellPeer: false });

  // Our own proof sent back: bound to our role, it cannot pass as the partner's.
  const pair = sides();
  const proofA = sent(pair.a.receive(pair.b.hello()));
  pair.a.hello();
  const reflected = pair.a.receive(proofA);
  assert.equal(reflected.action, 'refuse');

  const early = sides().b;
  const proofFirst = early.receive(Buffer.from(JSON.stringify({ kind: 'proof', proof: '00'.repeat(32) })));
  assert.deepEqual(proofFirst, { action: 'refuse', reason: 'expected hello, got proof', tellPeer: false });
  assert.equal(sides().b.receive(Buffer.from('{"kind":"hello"}')).action, 'refuse');
  assert.equal(sides().b.receive(Buffer.from('garbage')).action, 'refuse');
});

test('handshake: proofs differ by role, names and nonces, and the name that sorts first dials', () => {
  // Goal: every input of the transcript changes the proof.
  const base = { secret, role: 'dialer' as const, cluster: 'c', ownNode: 'a', peerNode: 'b', ownNonce: '01'.repeat(32), peerNonce: '02'.repeat(32) };
  const variants = [
    { role: 'listener' as const }, { cluster: 'd' }, { ownNode: 'b', peerNode: 'a' },
    { ownNonce: base.peerNonce, peerNonce: base.ownNonce }, { secret: Buffer.from('x'.repeat(32)) },
    // Field boundaries count: "ab" + "c" is not "a" + "bc".
    { ownNode: 'ab', peerNode: 'c' }, { ownNode: 'a', peerNode: 'bc' },
  ];
  const proofs = new Set([proofOf(base).toString('hex'), ...variants.map((variant) => proofOf({ ...base, ...variant }).toString('hex'))]);
  assert.equal(proofs.size, variants.length + 1);
  assert.equal(roleOf('a', 'b'), 'dialer');
  assert.equal(roleOf('b', 'a'), 'listener');
});
