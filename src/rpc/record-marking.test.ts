// Unit tests of record marking (RFC 5531 section 11): a stream fed in any slicing yields exactly
// its records, a header claiming too much ends the stream before anything is allocated, and
// recordHeader sets the last-fragment bit. json-pack's RmRecordEncoder is an independent oracle.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RmRecordEncoder } from '@jsonjoy.com/json-pack/lib/rm/RmRecordEncoder.js';
import {
  CHUNKED_RECORD_BYTES_MIN,
  RECORD_CHUNKS_MAX,
  RECORD_HEAD_BYTES,
  RecordDecoder,
  RecordTooLargeError,
  recordBytesFrom,
  recordHeader,
  recordLength,
  type RpcRecord,
} from './record-marking.js';

const LIMIT = 64 * 1024;

/** One fragment: a header (last bit when `last`) and its bytes. */
function fragment(bytes: Buffer, last: boolean): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt32BE(((last ? 0x8000_0000 : 0) | bytes.length) >>> 0);
  return Buffer.concat([header, bytes]);
}

const pattern = (length: number, seed: number): Buffer => Buffer.from(Array.from({ length }, (_, i) => (i * 7 + seed) & 0xff));

// Four records; the third is sent as three fragments, one of them empty.
const RECORDS = [pattern(5, 1), pattern(0, 2), pattern(300, 3), pattern(13, 4)];
const STREAM = Buffer.concat([
  fragment(RECORDS[0]!, true),
  fragment(RECORDS[1]!, true),
  fragment(RECORDS[2]!.subarray(0, 100), false),
  fragment(Buffer.alloc(0), false),
  fragment(RECORDS[2]!.subarray(100), true),
  fragment(RECORDS[3]!, true),
]);

function feed(decoder: RecordDecoder, pieces: Buffer[]): RpcRecord[] {
  return pieces.flatMap((piece) => decoder.push(piece));
}

test('record marking: a stream of several records, one multi-fragment, fed whole yields exactly the records', () => {
  // Goal: the baseline for the split tests below.
  assert.deepEqual(new RecordDecoder(LIMIT).push(STREAM), RECORDS);
});

test('record marking: a stream split at every single offset yields exactly the records', () => {
  // Goal: no split point (inside a header, a fragment or between them) loses or adds bytes.
  for (let at = 0; at <= STREAM.length; at++) {
    const decoder = new RecordDecoder(LIMIT);
    assert.deepEqual(feed(decoder, [STREAM.subarray(0, at), STREAM.subarray(at)]), RECORDS, `split at ${at}`);
    assert.equal(decoder.bufferedBytes, 0, `nothing left over after split at ${at}`);
  }
});

test('record marking: a stream split at every pair of offsets yields exactly the records', () => {
  // Goal: headers assembled from three slices, and fragments spanning three chunks.
  for (let a = 0; a <= STREAM.length; a++) {
    for (let b = a; b <= STREAM.length; b += 3) {
      const pieces = [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)];
      assert.deepEqual(feed(new RecordDecoder(LIMIT), pieces), RECORDS, `split at ${a} and ${b}`);
    }
  }
});

test('record marking: a stream fed byte by byte yields exactly the records, each as it completes', () => {
  // Goal: one-byte reads (the worst TCP can do) and the moment each record is released.
  const decoder = new RecordDecoder(LIMIT);
  const seen: RpcRecord[] = [];
  const completedAt: number[] = [];
  for (let i = 0; i < STREAM.length; i++) {
    for (const record of decoder.push(STREAM.subarray(i, i + 1))) {
      seen.push(record);
      completedAt.push(i + 1);
    }
  }
  assert.deepEqual(seen, RECORDS);
  // Each record completes with the last byte of its last fragment.
  assert.deepEqual(completedAt, [9, 13, 13 + 104 + 4 + 204, STREAM.length]);
});

test('record marking: a header claiming 2 GiB throws RecordTooLargeError once its 4 bytes arrive', () => {
  // Goal: the claim is refused from the header alone, before its bytes are awaited or allocated.
  for (const header of ['7fffffff', 'ffffffff']) {
    const decoder = new RecordDecoder(LIMIT);
    const bytes = Buffer.from(header, 'hex');
    for (let i = 0; i < 3; i++) assert.deepEqual(decoder.push(bytes.subarray(i, i + 1)), []);
    assert.throws(
      () => decoder.push(bytes.subarray(3, 4)),
      (error: unknown) =>
        error instanceof RecordTooLargeError && error.claimedBytes === 0x7fff_ffff && error.recordBytesMax === LIMIT,
    );
    assert.ok(decoder.bufferedBytes <= 4, `only the header is held (${decoder.bufferedBytes} bytes)`);
  }
});

test('record marking: fragments that add up past the limit throw, and up to the limit pass', () => {
  // Goal: the limit applies to the whole record, not to each fragment.
  const first = fragment(Buffer.alloc(60, 1), false);
  const tooMuch = new RecordDecoder(100);
  assert.deepEqual(tooMuch.push(first), []);
  assert.throws(
    () => tooMuch.push(Buffer.from('80000029', 'hex')),
    (error: unknown) => error instanceof RecordTooLargeError && error.claimedBytes === 101,
  );
  const exact = new RecordDecoder(100);
  const records = exact.push(Buffer.concat([first, fragment(Buffer.alloc(40, 2), true)]));
  assert.equal(records.length, 1);
  assert.equal(recordLength(records[0]!), 100);
});

test('record marking: the limit restarts with each record', () => {
  // Goal: two records of 80 bytes each pass a 100-byte limit (the count is per record).
  const decoder = new RecordDecoder(100);
  const records = decoder.push(Buffer.concat([fragment(Buffer.alloc(80), true), fragment(Buffer.alloc(80), true)]));
  assert.equal(records.length, 2);
});

test('record marking: recordHeader sets the last-fragment bit over the length', () => {
  // Goal: golden headers, the same bytes as json-pack's encoder, and the 31-bit bound.
  assert.deepEqual(recordHeader(0), Buffer.from('80000000', 'hex'));
  assert.deepEqual(recordHeader(5), Buffer.from('80000005', 'hex'));
  assert.deepEqual(recordHeader(0x01020304), Buffer.from('81020304', 'hex'));
  assert.deepEqual(recordHeader(0x7fff_ffff), Buffer.from('ffffffff', 'hex'));
  const oracle = new RmRecordEncoder();
  for (const length of [0, 1, 28, 65536, 0x7fff_ffff]) {
    assert.deepEqual(recordHeader(length), Buffer.from(oracle.encodeHdr(1, length)), `length ${length}`);
  }
  assert.throws(() => recordHeader(0x8000_0000), RangeError);
});

test('record marking: records framed by recordHeader decode back', () => {
  // Goal: the writer's framing and the reader's parsing agree.
  const records = [pattern(1, 9), pattern(1000, 8)];
  const stream = Buffer.concat(records.flatMap((r) => [recordHeader(r.length), r]));
  assert.deepEqual(new RecordDecoder(LIMIT).push(stream), records);
});

/** Feeds `stream` in pieces of `size` bytes (the first `first` bytes as one piece, if given). */
function feedInPieces(stream: Buffer, size: number, first = size): RpcRecord[] {
  const decoder = new RecordDecoder(2 * 1024 * 1024);
  const records = decoder.push(stream.subarray(0, first));
  for (let at = first; at < stream.length; at += size) records.push(...decoder.push(stream.subarray(at, at + size)));
  assert.equal(decoder.bufferedBytes, 0);
  return records;
}

test('record marking: a large record that arrives in socket-sized chunks is yielded as those chunks, not joined', () => {
  // Goal: a 1 MiB WRITE is never copied into one buffer (the gathered write); its bytes are the
  // record's, in order, and its first chunk holds the headers.
  const record = pattern(1024 * 1024 + 200, 5);
  const stream = Buffer.concat([recordHeader(record.length), record, recordHeader(7), pattern(7, 6)]);
  const [large, small, ...none] = feedInPieces(stream, 64 * 1024);
  assert.equal(none.length, 0);
  assert.ok(Array.isArray(large), 'the large record comes as chunks');
  assert.ok((large as readonly Buffer[]).length >= 16, 'one per socket read');
  assert.deepEqual(Buffer.concat(large as readonly Buffer[]), record);
  assert.ok((large as readonly Buffer[]).every((chunk) => chunk.buffer === stream.buffer), 'views of what arrived');
  assert.deepEqual(small, pattern(7, 6), 'a small record is one buffer');
  assert.deepEqual(recordBytesFrom(large!, 1000), record.subarray(1000));
  assert.equal(recordLength(large!), record.length);
});

test('record marking: a chunked record\'s first chunk holds at least RECORD_HEAD_BYTES, and too many chunks are joined', () => {
  // Goal: the headers of a trickled record are read from one buffer; a record in thousands of
  // pieces is not a gathered write of thousands of pieces.
  const record = pattern(CHUNKED_RECORD_BYTES_MIN + 4096, 3);
  const stream = Buffer.concat([recordHeader(record.length), record]);
  const [trickledHead] = feedInPieces(stream, 8192, 100);
  assert.ok(Array.isArray(trickledHead));
  assert.ok((trickledHead as readonly Buffer[])[0]!.length >= RECORD_HEAD_BYTES, 'the head is joined from the first pieces');
  assert.deepEqual(Buffer.concat(trickledHead as readonly Buffer[]), record);
  const [trickled] = feedInPieces(stream, Math.floor(record.length / (RECORD_CHUNKS_MAX + 8)));
  assert.ok(Buffer.isBuffer(trickled), 'joined');
  assert.deepEqual(trickled, record);
});
