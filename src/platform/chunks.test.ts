// Unit tests of chunks.ts: taking byte sequences held as several buffers apart at any offset.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { byteLength, bytesAfter, firstBytes } from './chunks.js';

const CHUNKS = [Buffer.from('abc'), Buffer.alloc(0), Buffer.from('de'), Buffer.from('fghij')];
const ALL = Buffer.concat(CHUNKS);

test('chunks: firstBytes and bytesAfter split at every offset into views that join back to the whole', () => {
  // Goal: a short gathered write goes on exactly where it stopped; a WRITE cut to wtmax keeps its first bytes.
  assert.equal(byteLength(CHUNKS), ALL.length);
  for (let at = 0; at <= ALL.length + 2; at++) {
    const first = firstBytes(CHUNKS, at);
    const rest = bytesAfter(CHUNKS, at);
    assert.deepEqual(Buffer.concat(first), ALL.subarray(0, at), `first ${at}`);
    assert.deepEqual(Buffer.concat(rest), ALL.subarray(at), `after ${at}`);
    assert.ok(rest.every((chunk) => chunk.length > 0), `no empty chunk after ${at}`);
    assert.ok([...first, ...rest].every((chunk) => CHUNKS.some((whole) => whole.buffer === chunk.buffer)), `views at ${at}`);
  }
});
