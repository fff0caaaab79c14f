// Unit tests of XdrWriter (RFC 4506): golden bytes for every primitive, round trips through
// XdrReader, padding, and the zero-copy contract of payload() (the caller's ArrayBuffer is
// referenced in finish(), never copied).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { XdrReader, XdrWriter } from './index.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const bytesOf = (write: (w: XdrWriter) => void): string => {
  const writer = new XdrWriter();
  write(writer);
  return writer.toBuffer().toString('hex');
};

test('xdr writer: golden bytes of integers, bools and hypers are big-endian', () => {
  // Goal: RFC 4506 4.1-4.5, written out by hand.
  assert.equal(bytesOf((w) => w.int32(-1)), 'ffffffff');
  assert.equal(bytesOf((w) => w.int32(-0x8000_0000)), '80000000');
  assert.equal(bytesOf((w) => w.uint32(0xffff_ffff)), 'ffffffff');
  assert.equal(bytesOf((w) => w.uint32(0x0102_0304)), '01020304');
  assert.equal(bytesOf((w) => w.bool(true).bool(false)), '0000000100000000');
  assert.equal(bytesOf((w) => w.uint64(0x0102030405060708n)), '0102030405060708');
  assert.equal(bytesOf((w) => w.int64(-2n)), 'fffffffffffffffe');
  assert.equal(bytesOf((w) => w.uint64(2n ** 64n - 1n)), 'ffffffffffffffff');
});

test('xdr writer: a 5-byte opaque is its length, the bytes and 3 zero bytes of fill', () => {
  // Goal: RFC 4506 4.10 padding, with dirty scratch memory underneath (allocUnsafe).
  assert.equal(bytesOf((w) => w.opaque(Buffer.from([1, 2, 3, 4, 5]))), '00000005' + '0102030405' + '000000');
  assert.equal(bytesOf((w) => w.fixedOpaque(Buffer.from([0xaa, 0xbb, 0xcc]))), 'aabbcc00');
  assert.equal(bytesOf((w) => w.opaque(Buffer.alloc(0))), '00000000');
  assert.equal(bytesOf((w) => w.string('ab')), '00000002' + '6162' + '0000');
  for (let length = 0; length <= 9; length++) {
    const encoded = new XdrWriter(4).opaque(Buffer.alloc(length, 0xff)).toBuffer();
    assert.equal(encoded.length, 4 + Math.ceil(length / 4) * 4, `length ${length}`);
    assert.ok(encoded.subarray(4 + length).every((b) => b === 0), `fill of ${length} bytes is zero`);
  }
});

test('xdr writer: the RFC 4506 section 7 "file" example encodes to the listed bytes', () => {
  // Goal: a whole struct with strings, an enum and opaque fill matches the RFC byte for byte.
  const encoded = new XdrWriter(8)
    .string('sillyprog')
    .int32(2)
    .string('lisp')
    .string('john')
    .opaque(Buffer.from('(quit)'))
    .toBuffer();
  assert.deepEqual(
    encoded,
    hex(`00000009 73696c6c 7970726f 67000000 00000002 00000004 6c697370
         00000004 6a6f686e 00000006 28717569 74290000`),
  );
});

test('xdr writer: optional-data is FALSE alone, or TRUE followed by the value', () => {
  // Goal: RFC 4506 4.19.
  assert.equal(bytesOf((w) => w.optional(undefined, (x, v: number) => x.uint32(v))), '00000000');
  assert.equal(bytesOf((w) => w.optional(7, (x, v) => x.uint32(v))), '00000001' + '00000007');
});

test('xdr writer: every primitive round-trips through the reader', () => {
  // Goal: reader and writer are inverses at the extremes of each type.
  const latin1 = String.fromCharCode(...Array.from({ length: 256 }, (_, i) => i));
  const big = Buffer.alloc(3001, 7);
  const writer = new XdrWriter(16);
  const ints = [0, 1, -1, 0x7fff_ffff, -0x8000_0000];
  const uints = [0, 1, 0x7fff_ffff, 0x8000_0000, 0xffff_ffff];
  const hypers = [0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n)];
  const uhypers = [0n, 1n, 2n ** 63n, 2n ** 64n - 1n];
  for (const v of ints) writer.int32(v);
  for (const v of uints) writer.uint32(v);
  for (const v of hypers) writer.int64(v);
  for (const v of uhypers) writer.uint64(v);
  writer.bool(true).bool(false).string(latin1).string('').opaque(big).fixedOpaque(Buffer.from([1, 2, 3, 4, 5, 6]));
  writer.optional(5, (w, v) => w.int32(v)).optional(undefined, (w, v: number) => w.int32(v));
  const expectedLength = writer.length;
  const encoded = writer.toBuffer();
  assert.equal(encoded.length, expectedLength);
  const reader = new XdrReader(encoded);
  for (const v of ints) assert.equal(reader.int32(), v);
  for (const v of uints) assert.equal(reader.uint32(), v);
  for (const v of hypers) assert.equal(reader.int64(), v);
  for (const v of uhypers) assert.equal(reader.uint64(), v);
  assert.equal(reader.bool(), true);
  assert.equal(reader.bool(), false);
  assert.equal(reader.string(256), latin1);
  assert.equal(reader.string(0), '');
  assert.deepEqual(reader.opaque(4096), big);
  assert.deepEqual(reader.fixedOpaque(6), Buffer.from([1, 2, 3, 4, 5, 6]));
  assert.equal(reader.optional((r) => r.int32()), 5);
  assert.equal(reader.optional((r) => r.int32()), undefined);
  reader.end('round trip');
});

test('xdr writer: payload() references the caller\'s ArrayBuffer in finish() and pads it', () => {
  // Goal: READ data is spliced in by reference (no copy) with its XDR fill after it.
  const backing = new ArrayBuffer(4096);
  const data = new Uint8Array(backing, 100, 2001);
  data.fill(0x5a);
  const writer = new XdrWriter().uint32(2001).payload(data).uint32(0xdeadbeef);
  const chunks = writer.finish();
  const spliced = chunks.find((chunk) => chunk.buffer === backing);
  assert.ok(spliced !== undefined, 'one chunk shares the payload\'s ArrayBuffer');
  assert.equal(spliced.byteOffset, 100);
  assert.equal(spliced.length, 2001);
  const whole = Buffer.concat(chunks);
  assert.equal(whole.length, 4 + 2004 + 4);
  assert.deepEqual(whole.subarray(0, 4), hex('000007d1'));
  assert.deepEqual(whole.subarray(4 + 2001, 4 + 2004), hex('000000'));
  assert.deepEqual(whole.subarray(4 + 2004), hex('deadbeef'));
  // By reference: a change to the source after payload() shows in the chunk.
  data[0] = 0x11;
  assert.equal(spliced[0], 0x11);
});

test('xdr writer: a large fixed opaque or opaque is spliced by reference too', () => {
  // Goal: fixedOpaque/opaque of at least 1 KiB take the payload path (no copy).
  const data = Buffer.alloc(1024, 3);
  const chunks = new XdrWriter().opaque(data).finish();
  assert.ok(chunks.some((chunk) => chunk.buffer === data.buffer && chunk.byteOffset === data.byteOffset));
  assert.deepEqual(Buffer.concat(chunks), Buffer.concat([hex('00000400'), data]));
});

test('xdr writer: values written after a payload do not overwrite bytes before it', () => {
  // Goal: the scratch buffer is not reused under a chunk already handed to finish().
  const writer = new XdrWriter(8);
  for (let i = 0; i < 10; i++) writer.uint32(i).payload(Buffer.from([i, i, i]));
  const whole = Buffer.concat(writer.finish());
  const reader = new XdrReader(whole);
  for (let i = 0; i < 10; i++) {
    assert.equal(reader.uint32(), i);
    assert.deepEqual([...reader.fixedOpaque(3)], [i, i, i]);
  }
  reader.end('interleaved');
});

test('xdr writer: integers written as the scratch buffer grows keep every earlier byte', () => {
  // Goal: a reply larger than the initial scratch (512 bytes; 256 in the dispatcher) is intact.
  for (const initialBytes of [4, 8, 256, 512]) {
    const writer = new XdrWriter(initialBytes);
    for (let i = 0; i < 1000; i++) writer.uint32(i).int32(-i - 1).uint64(BigInt(i)).int64(-BigInt(i));
    const reader = new XdrReader(writer.toBuffer());
    for (let i = 0; i < 1000; i++) {
      assert.equal(reader.uint32(), i, `uint32 ${i} with ${initialBytes} initial bytes`);
      assert.equal(reader.int32(), -i - 1);
      assert.equal(reader.uint64(), BigInt(i));
      assert.equal(reader.int64(), -BigInt(i));
    }
    reader.end('grown');
  }
});
