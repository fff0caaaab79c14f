// Tests of the interconnect framing: payloads come out whole however the stream is sliced, a
// length above the limit is refused before anything is buffered, and the limit may change
// between two frames that arrived in one chunk.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_BYTES_MAX, FrameDecoder, FrameTooLargeError, HANDSHAKE_FRAME_BYTES_MAX, frameHeader } from './framing.js';

const framed = (payload: Buffer): Buffer => Buffer.concat([frameHeader(payload.length), payload]);

function drain(decoder: FrameDecoder): Buffer[] {
  const payloads: Buffer[] = [];
  for (let payload = decoder.next(); payload !== undefined; payload = decoder.next()) payloads.push(payload);
  return payloads;
}

test('framing: payloads come out whole when the stream is split at every offset', () => {
  // Goal: no slicing of the byte stream (including inside a header) loses, merges or splits a payload.
  const payloads = [Buffer.from('{"kind":"hello"}'), Buffer.alloc(0), Buffer.from('x'.repeat(300))];
  const stream = Buffer.concat(payloads.map(framed));
  for (let first = 0; first <= stream.length; first++) {
    for (const second of [first, Math.min(stream.length, first + 1), Math.min(stream.length, first + 5)]) {
      const decoder = new FrameDecoder(FRAME_BYTES_MAX);
      const got: Buffer[] = [];
      for (const chunk of [stream.subarray(0, first), stream.subarray(first, second), stream.subarray(second)]) {
        decoder.push(chunk);
        got.push(...drain(decoder));
      }
      assert.deepEqual(got.map(String), payloads.map(String), `split at ${first} and ${second}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  }
});

test('framing: a length above the limit is refused from its header alone', () => {
  // Goal: a 2 GiB claim throws at once, with only the 4 header bytes held.
  const decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
  decoder.push(frameHeader(2 * 1024 * 1024 * 1024));
  assert.throws(() => decoder.next(), (error: unknown) => error instanceof FrameTooLargeError && error.claimedBytes === 2 ** 31);
  assert.equal(decoder.bufferedBytes, 4);
  const exact = new FrameDecoder(8);
  exact.push(framed(Buffer.alloc(8)));
  assert.equal(exact.next()?.length, 8, 'a payload of exactly the limit passes');
});

test('framing: the limit applies to each frame when it is decoded, so it can grow after the handshake', () => {
  // Goal: the proof and a large first session frame in one chunk are both accepted once the limit rises between them.
  const small = Buffer.from('proof');
  const large = Buffer.alloc(HANDSHAKE_FRAME_BYTES_MAX + 1, 7);
  const decoder = new FrameDecoder(HANDSHAKE_FRAME_BYTES_MAX);
  decoder.push(Buffer.concat([framed(small), framed(large)]));
  assert.equal(String(decoder.next()), 'proof');
  decoder.frameBytesMax = FRAME_BYTES_MAX;
  assert.deepEqual(decoder.next(), large);
  assert.equal(decoder.next(), undefined);
});
