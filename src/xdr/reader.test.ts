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
