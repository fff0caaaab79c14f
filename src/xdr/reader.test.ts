// Unit tests of XdrReader (RFC 4506): golden bytes decode to the right values, and malformed
// input (lengths past a maximum, truncation at any byte, a bool that is neither 0 nor 1,
// trailing bytes) raises XdrDecodeError and nothing else.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrDecodeError, XdrWriter } from './index.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');

/** Asserts that `read` fails with XdrDecodeError (not a RangeError or anything else). */
function assertDecodeError(read: () => unknown, message?: RegExp): void {
  assert.throws(read, (error: unknown) => {
    assert.ok(error instanceof XdrDecodeError, `expected XdrDecodeError, got ${String(error)}`);
    if (message !== undefined) assert.match(error.message, message);
    return true;
  });
}

test('xdr reader: golden integers decode big-endian, signed and unsigned', () => {
  // Goal: RFC 4506 4.1-4.5 byte order and sign handling, read from hand-written bytes.
  const reader = new XdrReader(
    hex('ffffffff ffffffff 80000000 00000001 0102030405060708 fffffffffffffffe 8000000000000000 ffffffffffffffff'),
  );
  assert.equal(reader.int32(), -1);
  assert.equal(reader.uint32(), 0xffff_ffff);
  assert.equal(reader.int32(), -0x8000_0000);
  assert.equal(reader.enumValue(), 1);
  assert.equal(reader.uint64(), 0x0102030405060708n);
  assert.equal(reader.int64(), -2n);
  assert.equal(reader.int64(), -(2n ** 63n));
  assert.equal(reader.uint64(), 2n ** 64n - 1n);
  reader.end('integers');
});

test('xdr reader: the RFC 4506 section 7 "file" example decodes field by field', () => {
  // Goal: strings, an enum and an opaque with 3- and 2-byte fill decode as the RFC's listing says.
  const reader = new XdrReader(
    hex(`00000009 73696c6c 7970726f 67000000 00000002 00000004 6c697370
         00000004 6a6f686e 00000006 28717569 74290000`),
  );
  assert.equal(reader.string(255), 'sillyprog');
  assert.equal(reader.enumValue(), 2);
  assert.equal(reader.string(255), 'lisp');
  assert.equal(reader.string(32), 'john');
  assert.deepEqual(reader.opaque(65535), Buffer.from('(quit)'));
  assert.equal(reader.remaining, 0);
  reader.end('file');
});

test('xdr reader: opaque and fixed opaque return views of the record, not copies', () => {
  // Goal: large arguments (WRITE data) are not copied on decode.
  const record = hex('00000005 0102030405 000000 aabbcc00');
  const reader = new XdrReader(record);
  const variable = reader.opaque(8);
  const fixed = reader.fixedOpaque(3);
  assert.equal(variable.buffer, record.buffer);
  assert.equal(variable.byteOffset, record.byteOffset + 4);
  assert.deepEqual([...fixed], [0xaa, 0xbb, 0xcc]);
  assert.equal(fixed.buffer, record.buffer);
  reader.end('views');
});

test('xdr reader: an opaque longer than its maximum is refused before its bytes are read', () => {
  // Goal: the length is checked against the caller's maximum, also when the bytes are absent.
  assertDecodeError(() => new XdrReader(hex('00000006 010203040506 0000')).opaque(5), /exceeds the maximum of 5/);
  assertDecodeError(() => new XdrReader(hex('ffffffff')).opaque(1024), /exceeds the maximum/);
  assertDecodeError(() => new XdrReader(hex('00000100')).string(255), /exceeds the maximum of 255/);
  assert.equal(new XdrReader(hex('00000005 0102030405 000000')).opaque(5).length, 5);
});

test('xdr reader: an array count above its maximum is refused', () => {
  // Goal: arrayLength bounds the element count before any element is read.
  assertDecodeError(() => new XdrReader(hex('00000011')).arrayLength(16), /17 elements/);
  assert.equal(new XdrReader(hex('00000010')).arrayLength(16), 16);
});

test('xdr reader: a bool other than 0 or 1 is malformed', () => {
  // Goal: RFC 4506 4.4, bool is an enum of exactly FALSE and TRUE.
  assert.equal(new XdrReader(hex('00000000')).bool(), false);
  assert.equal(new XdrReader(hex('00000001')).bool(), true);
  for (const value of ['00000002', 'ffffffff', '80000000', '00000100']) {
    assertDecodeError(() => new XdrReader(hex(value)).bool(), /neither 0 nor 1/);
  }
  assertDecodeError(() => new XdrReader(hex('00000002 00000000')).optional((r) => r.uint32()));
});

test('xdr reader: trailing bytes make end() fail', () => {
  // Goal: arguments with bytes left over are GARBAGE_ARGS, not silently accepted.
  const reader = new XdrReader(hex('00000001 00'));
  reader.uint32();
  assertDecodeError(() => reader.end('args'), /args: 1 unexpected trailing bytes/);
  const exact = new XdrReader(hex('00000001'));
  exact.uint32();
  exact.end('args');
});

test('xdr reader: a message truncated at every prefix length raises XdrDecodeError only', () => {
  // Goal: no prefix of a valid encoding decodes, and none escapes as a RangeError.
  const full = new XdrWriter()
    .uint32(7)
    .int64(-5n)
    .opaque(Buffer.from([1, 2, 3, 4, 5]))
    .string('abc')
    .bool(true)
    .optional(9n, (w, v) => w.uint64(v))
    .fixedOpaque(Buffer.from([9, 8, 7]))
    .toBuffer();
  const decode = (bytes: Buffer) => {
    const reader = new XdrReader(bytes);
    const out = [
      reader.uint32(),
      reader.int64(),
      reader.opaque(16),
      reader.string(16),
      reader.bool(),
      reader.optional((r) => r.uint64()),
      reader.fixedOpaque(3),
    ];
    reader.end('message');
    return out;
  };
  assert.deepEqual(decode(full), [7, -5n, Buffer.from([1, 2, 3, 4, 5]), 'abc', true, 9n, Buffer.from([9, 8, 7])]);
  for (let length = 0; length < full.length; length++) {
    assertDecodeError(() => decode(full.subarray(0, length)));
  }
});

test('xdr reader: a window never reads past its end even when the buffer goes on', () => {
  // Goal: the (offset, end) bounds are the record's bounds, not the underlying buffer's.
  const buffer = hex('00000001 00000002 00000003');
  const reader = new XdrReader(buffer, 4, 8);
  assert.equal(reader.remaining, 4);
  assertDecodeError(() => reader.uint64());
  assert.equal(reader.uint32(), 2);
  assertDecodeError(() => reader.uint32(), /needs 4 bytes at offset 8, 0 remain/);
});

/** `bytes` cut at each of `cuts`: the pieces a socket might have delivered. */
function pieces(bytes: Buffer, cuts: number[]): Buffer[] {
  return [0, ...cuts].map((at, index) => bytes.subarray(at, [...cuts, bytes.length][index]));
}

test('xdr reader: bulkOpaque over bytes in several buffers returns views of each, in order, never a copy', () => {
  // Goal: a WRITE's data as the socket delivered it (the gathered write): its bytes exactly,
  // each piece a view of the buffer it lies in, and reading goes on after it and its padding.
  const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i & 0xff));
  const encoded = new XdrWriter().uint32(7).opaque(data).uint32(9).toBuffer();
  const message = Buffer.alloc(encoded.length); // memory of its own, not a shared pool slab
  encoded.copy(message);
  for (const cuts of [[10], [4, 100, 600], [8, 9, 1003], [1006], [1008], [500, 1008]]) {
    const [first, ...rest] = pieces(message, cuts);
    const reader = new XdrReader(first!, 0, first!.length, rest);
    assert.equal(reader.remaining, message.length);
    assert.equal(reader.uint32(), 7);
    const got = reader.bulkOpaque(4096);
    assert.deepEqual(Buffer.concat(got), data, `cuts ${cuts}`);
    assert.ok(got.every((piece) => piece.buffer === message.buffer), `views, cuts ${cuts}`);
    assert.equal(reader.uint32(), 9, `what follows, cuts ${cuts}`);
    assert.equal(reader.offset, message.length);
    reader.end('message');
  }
});

test('xdr reader: any other read across buffers joins them and reads the right bytes; bounds still hold', () => {
  // Goal: a record whose headers straddle socket reads still decodes (correct before fast);
  // lengths past what remains in all buffers are malformed, and trailing bytes in later buffers count.
  const message = new XdrWriter().uint64(0x0102030405060708n).string('hello').uint32(3).toBuffer();
  for (let cut = 1; cut < message.length; cut++) {
    const [first, rest] = pieces(message, [cut]);
    const reader = new XdrReader(first!, 0, first!.length, [rest!]);
    assert.equal(reader.uint64(), 0x0102030405060708n, `cut ${cut}`);
    assert.equal(reader.string(16), 'hello', `cut ${cut}`);
    assert.equal(reader.uint32(), 3, `cut ${cut}`);
    reader.end('message');
  }
  const [head, tail] = pieces(new XdrWriter().uint32(100).uint32(1).toBuffer(), [2]);
  assertDecodeError(() => new XdrReader(head!, 0, head!.length, [tail!]).bulkOpaque(200), /needs 100 bytes/);
  const trailing = new XdrReader(Buffer.alloc(4), 0, 4, [Buffer.alloc(4)]);
  trailing.uint32();
  assertDecodeError(() => trailing.end('message'), /4 unexpected trailing bytes/);
});
