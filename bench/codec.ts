// `npm run bench:codec`: our NFSv3 codec (src/xdr + src/nfs3/arguments.ts, results.ts) against
// @jsonjoy.com/json-pack's Nfsv3Decoder / Nfsv3Encoder, on the server-side operations that matter:
// decoding arguments and encoding results. Both codecs get identical inputs (the same bytes to
// decode; the same values, each in its codec's own shape, to encode), built once outside the
// timed loops. A benchmark, not a test: it asserts nothing and reports what it saw, including
// whether both codecs produced the same bytes (encode) or the same fields (decode).
//
// Method: per operation and codec, a warm-up (WARMUP_ITERATIONS or WARMUP_MS, whichever first),
// then REPEATS timed runs of MEASURE_ITERATIONS or MEASURE_MS, whichever first, interleaving the
// two codecs (alternating which goes first) so drift on a shared machine hits both alike. The
// figure is the median ops/s of the runs.
//
// What each iteration does is what the server would do per RPC:
// - ours, decode: `new XdrReader(record)` and the procedure's decoder.
// - json-pack, decode: one long-lived Nfsv3Decoder and Reader; `reader.reset(record)` and
//   `decodeMessage(reader, proc, true)`.
// - ours, encode: `new XdrWriter(256)` (the dispatcher's REPLY_BYTES_INITIAL), the encoder, and
//   `finish()`: the chunks a gathered socket write takes.
// - json-pack, encode: one long-lived Nfsv3Encoder; `encodeMessage(message, proc, false)`: the
//   Uint8Array a socket write takes.
// The RPC reply header is left out of both. Translating Tandem's result types into json-pack's
// message classes is not timed (it would be extra work for json-pack in this server).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

import { Reader } from '@jsonjoy.com/buffers/lib/Reader.js';
import * as jp from '@jsonjoy.com/json-pack/lib/nfs/v3/index.js';

import {
  decodeGetattrArgs,
  decodeLookupArgs,
  decodeWriteArgs,
} from '../src/nfs3/arguments.js';
import { FTYPE3_OF_FILE_TYPE, STABLE_HOW_OF_STABILITY } from '../src/nfs3/constants.js';
import {
  encodeGetattrResult,
  encodeReadResult,
  encodeReaddirplusResult,
  encodeWriteResult,
} from '../src/nfs3/results.js';
import type {
  Entryplus3,
  GetattrResult,
  ReadResult,
  ReaddirplusResult,
  WccData,
  WriteResult,
} from '../src/nfs3/types.js';
import { HANDLE_BYTES } from '../src/storage/file-handles.js';
import type { Attributes, Timestamp } from '../src/storage/types.js';
import { XdrReader, XdrWriter } from '../src/xdr/index.js';
import { median } from './stats.js';

const WARMUP_ITERATIONS = 20_000;
const WARMUP_MS = 500;
const MEASURE_ITERATIONS = 200_000;
const MEASURE_MS = 2_000;
const REPEATS = 5;
/** Iterations between clock reads, so reading the clock costs little next to cheap operations. */
const BATCH = 64;
/** The dispatcher's REPLY_BYTES_INITIAL (src/rpc/dispatcher.ts). */
const REPLY_BYTES_INITIAL = 256;

const PROC_GETATTR = 1 as jp.Nfsv3Proc;
const PROC_LOOKUP = 3 as jp.Nfsv3Proc;
const PROC_READ = 6 as jp.Nfsv3Proc;
const PROC_WRITE = 7 as jp.Nfsv3Proc;
const PROC_READDIRPLUS = 17 as jp.Nfsv3Proc;
const NFS3_OK = 0 as jp.Nfsv3Stat;

/** Keeps results alive so the optimiser cannot drop the work. */
let sink = 0;

// ---------------------------------------------------------------------------------------------
// Timing

type Op = () => number;

/** One bounded run: ops/s over min(iterations, ms). */
function run(op: Op, iterations: number, ms: number): number {
  const deadline = BigInt(ms) * 1_000_000n;
  const start = process.hrtime.bigint();
  let done = 0;
  let elapsed = 0n;
  let acc = 0;
  while (done < iterations) {
    const batch = Math.min(BATCH, iterations - done);
    for (let i = 0; i < batch; i++) acc += op();
    done += batch;
    elapsed = process.hrtime.bigint() - start;
    if (elapsed >= deadline) break;
  }
  sink += acc;
  return done / (Number(elapsed) / 1e9);
}


function compare(ours: Op, theirs: Op): { ours: number; theirs: number } {
  run(ours, WARMUP_ITERATIONS, WARMUP_MS);
  run(theirs, WARMUP_ITERATIONS, WARMUP_MS);
  const a: number[] = [];
  const b: number[] = [];
  for (let rep = 0; rep < REPEATS; rep++) {
    if (rep % 2 === 0) {
      a.push(run(ours, MEASURE_ITERATIONS, MEASURE_MS));
      b.push(run(theirs, MEASURE_ITERATIONS, MEASURE_MS));
    } else {
      b.push(run(theirs, MEASURE_ITERATIONS, MEASURE_MS));
      a.push(run(ours, MEASURE_ITERATIONS, MEASURE_MS));
    }
  }
  return { ours: median(a), theirs: median(b) };
}

// ---------------------------------------------------------------------------------------------
// Fixtures: our shapes and json-pack's, holding the same values

function bytes(length: number, seed: number): Buffer {
  const buffer = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) buffer[i] = (i * 31 + seed) & 0xff;
  return buffer;
}

const HANDLE = bytes(HANDLE_BYTES, 7); // 45 bytes: 3 bytes of XDR padding
const VERF = bytes(8, 99);
const T1: Timestamp = { seconds: 1_700_000_000, nanoseconds: 123_456_789 };
const T2: Timestamp = { seconds: 1_700_000_100, nanoseconds: 987_654_321 };

function attributes(type: 'reg' | 'dir', fileid: bigint, size: bigint): Attributes {
  return {
    type,
    mode: type === 'dir' ? 0o755 : 0o644, // permission bits only: json-pack writes mode unmasked
    nlink: type === 'dir' ? 2 : 1,
    uid: 1000,
    gid: 1000,
    size,
    used: (size + 4095n) & ~4095n,
    rdev: { major: 0, minor: 0 },
    fsid: 0x0102_0304_0506_0708n,
    fileid,
    atime: T1,
    mtime: T2,
    ctime: T2,
  };
}

function jpTime(time: Timestamp): jp.Nfsv3Time {
  return new jp.Nfsv3Time(time.seconds, time.nanoseconds);
}

function jpFattr(a: Attributes): jp.Nfsv3Fattr {
  return new jp.Nfsv3Fattr(
    FTYPE3_OF_FILE_TYPE[a.type] as number as jp.Nfsv3FType,
    a.mode,
    a.nlink,
    a.uid,
    a.gid,
    a.size,
    a.used,
    new jp.Nfsv3SpecData(a.rdev.major, a.rdev.minor),
    a.fsid,
    a.fileid,
    jpTime(a.atime),
    jpTime(a.mtime),
    jpTime(a.ctime),
  );
}

function jpPostOpAttr(a: Attributes | undefined): jp.Nfsv3PostOpAttr {
  return new jp.Nfsv3PostOpAttr(a !== undefined, a === undefined ? undefined : jpFattr(a));
}

function jpWcc(wcc: WccData): jp.Nfsv3WccData {
  const before = wcc.before;
  return new jp.Nfsv3WccData(
    new jp.Nfsv3PreOpAttr(
      before !== undefined,
      before === undefined ? undefined : new jp.Nfsv3WccAttr(before.size, jpTime(before.mtime), jpTime(before.ctime)),
    ),
    jpPostOpAttr(wcc.after),
  );
}

const FILE = attributes('reg', 4242n, 1_048_576n);
const DIR = attributes('dir', 2n, 4096n);

// ---------------------------------------------------------------------------------------------
// Rows

interface Row {
  readonly name: string;
  readonly ours: number;
  readonly theirs: number;
  readonly identical: boolean;
}

const rows: Row[] = [];

function concat(chunks: readonly Uint8Array[]): Buffer {
  return Buffer.concat(chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.byteLength)));
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** 'view' when `part` shares memory with `record`, 'copy' otherwise. */
function viewOrCopy(part: Uint8Array, record: Uint8Array): string {
  return part.buffer === record.buffer ? 'view' : 'copy';
}

function report(name: string, ours: Op, theirs: Op, identical: boolean): void {
  process.stderr.write(`  ${name} ...`);
  const figures = compare(ours, theirs);
  process.stderr.write(` done\n`);
  rows.push({ name, ours: figures.ours, theirs: figures.theirs, identical });
}

// Decoders. One json-pack decoder and reader for all rows, as a connection would keep them.
const jpDecoder = new jp.Nfsv3Decoder();
const jpReader = new Reader();

function jpDecode<T>(record: Buffer, proc: jp.Nfsv3Proc): T {
  jpReader.reset(record);
  return jpDecoder.decodeMessage(jpReader, proc, true) as T;
}

function writeArgsRecord(data: Buffer): Buffer {
  return new XdrWriter()
    .opaque(HANDLE)
    .uint64(1_234_567_890n)
    .uint32(data.length)
    .uint32(2) // FILE_SYNC
    .opaque(data)
    .toBuffer();
}

function benchWriteArgs(label: string, dataBytes: number): void {
  const record = writeArgsRecord(bytes(dataBytes, 3));
  const ours = decodeWriteArgs(new XdrReader(record));
  const theirs = jpDecode<jp.Nfsv3WriteRequest>(record, PROC_WRITE);
  const identical =
    same(ours.file, theirs.file.data) &&
    ours.offset === theirs.offset &&
    ours.count === theirs.count &&
    STABLE_HOW_OF_STABILITY[ours.stable] === theirs.stable &&
    ours.data.length === 1 &&
    same(ours.data[0]!, theirs.data);
  report(
    `decode WRITE args, ${label} (data: ours ${viewOrCopy(ours.data[0]!, record)}, json-pack ${viewOrCopy(theirs.data, record)})`,
    () => decodeWriteArgs(new XdrReader(record)).data[0]!.length,
    () => jpDecode<jp.Nfsv3WriteRequest>(record, PROC_WRITE).data.length,
    identical,
  );
}

function benchGetattrArgs(): void {
  const record = new XdrWriter().opaque(HANDLE).toBuffer();
  const ours = decodeGetattrArgs(new XdrReader(record));
  const theirs = jpDecode<jp.Nfsv3GetattrRequest>(record, PROC_GETATTR);
  report(
    'decode GETATTR args',
    () => decodeGetattrArgs(new XdrReader(record)).object.length,
    () => jpDecode<jp.Nfsv3GetattrRequest>(record, PROC_GETATTR).object.data.length,
    same(ours.object, theirs.object.data),
  );
}

function benchLookupArgs(): void {
  const record = new XdrWriter().opaque(HANDLE).string('quarterly-report-2024.ods').toBuffer();
  const ours = decodeLookupArgs(new XdrReader(record));
  const theirs = jpDecode<jp.Nfsv3LookupRequest>(record, PROC_LOOKUP);
  report(
    'decode LOOKUP args',
    () => decodeLookupArgs(new XdrReader(record)).what.name.length,
    () => jpDecode<jp.Nfsv3LookupRequest>(record, PROC_LOOKUP).what.name.length,
    same(ours.what.dir, theirs.what.dir.data) && ours.what.name === theirs.what.name,
  );
}

// Encoders. One json-pack encoder for all rows, as a connection would keep it.
const jpEncoder = new jp.Nfsv3Encoder();

function oursEncode<R>(encode: (writer: XdrWriter, result: R) => void, result: R): Buffer[] {
  const writer = new XdrWriter(REPLY_BYTES_INITIAL);
  encode(writer, result);
  return writer.finish();
}

function totalLength(chunks: readonly Buffer[]): number {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return length;
}

function benchEncode<R>(
  name: string,
  encode: (writer: XdrWriter, result: R) => void,
  result: R,
  message: jp.Nfsv3Response,
  proc: jp.Nfsv3Proc,
): void {
  const ours = concat(oursEncode(encode, result));
  const theirs = Buffer.from(jpEncoder.encodeMessage(message, proc, false)); // a copy: the encoder's arena moves on
  report(
    name,
    () => totalLength(oursEncode(encode, result)),
    () => jpEncoder.encodeMessage(message, proc, false).length,
    Buffer.compare(ours, theirs) === 0,
  );
}

function benchGetattrResult(): void {
  const result: GetattrResult = { status: 0, objAttributes: FILE };
  const message = new jp.Nfsv3GetattrResponse(NFS3_OK, new jp.Nfsv3GetattrResOk(jpFattr(FILE)));
  benchEncode('encode GETATTR resok (fattr3)', encodeGetattrResult, result, message, PROC_GETATTR);
}

function benchReadResult(label: string, dataBytes: number): void {
  const data = bytes(dataBytes, 5);
  const result: ReadResult = { status: 0, fileAttributes: FILE, data, eof: false };
  const message = new jp.Nfsv3ReadResponse(
    NFS3_OK,
    new jp.Nfsv3ReadResOk(jpPostOpAttr(FILE), data.length, false, data),
  );
  benchEncode(`encode READ resok, ${label} (data: ours by reference, json-pack copied)`, encodeReadResult, result, message, PROC_READ);
}

function benchReaddirplusResult(count: number): void {
  const entries: Entryplus3[] = [];
  for (let i = 0; i < count; i++) {
    const fileid = 10_000n + BigInt(i);
    entries.push({
      fileid,
      name: `file-${String(i).padStart(4, '0')}.dat`,
      cookie: BigInt(i + 1),
      attributes: attributes('reg', fileid, BigInt(i * 1000)),
      handle: bytes(HANDLE_BYTES, i),
    });
  }
  const result: ReaddirplusResult = { status: 0, dirAttributes: DIR, cookieverf: VERF, entries, eof: true };
  // json-pack's entries are a linked list (entryplus3's nextentry), built from the tail.
  let list: jp.Nfsv3EntryPlus | undefined;
  for (let i = entries.length - 1; i >= 0; i--) {
    const e = entries[i]!;
    list = new jp.Nfsv3EntryPlus(
      e.fileid,
      e.name,
      e.cookie,
      jpPostOpAttr(e.attributes),
      new jp.Nfsv3PostOpFh(e.handle !== undefined, e.handle === undefined ? undefined : new jp.Nfsv3Fh(e.handle)),
      list,
    );
  }
  const message = new jp.Nfsv3ReaddirplusResponse(
    NFS3_OK,
    new jp.Nfsv3ReaddirplusResOk(jpPostOpAttr(DIR), VERF, new jp.Nfsv3DirListPlus(true, list)),
  );
  benchEncode(
    `encode READDIRPLUS resok, ${count} entries (attrs + handles)`,
    encodeReaddirplusResult,
    result,
    message,
    PROC_READDIRPLUS,
  );
}

function benchWriteResult(): void {
  const fileWcc: WccData = { before: { size: 1_044_480n, mtime: T1, ctime: T1 }, after: FILE };
  const result: WriteResult = { status: 0, fileWcc, count: 4096, committed: 'file-sync', verf: VERF };
  const message = new jp.Nfsv3WriteResponse(
    NFS3_OK,
    new jp.Nfsv3WriteResOk(jpWcc(fileWcc), 4096, STABLE_HOW_OF_STABILITY['file-sync'], VERF),
  );
  benchEncode('encode WRITE resok (wcc_data)', encodeWriteResult, result, message, PROC_WRITE);
}

// ---------------------------------------------------------------------------------------------

function jsonPackVersion(): string {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve('@jsonjoy.com/json-pack/package.json');
  return (JSON.parse(readFileSync(manifest, 'utf8')) as { version: string }).version;
}

function formatOps(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

function main(): void {
  process.stderr.write(`bench:codec: ours vs @jsonjoy.com/json-pack (${REPEATS} runs of min(${MEASURE_ITERATIONS} iterations, ${MEASURE_MS} ms) each)\n`);
  benchWriteArgs('4 KiB', 4096);
  benchWriteArgs('1 MiB', 1_048_576);
  benchGetattrArgs();
  benchLookupArgs();
  benchGetattrResult();
  benchReadResult('4 KiB', 4096);
  benchReadResult('1 MiB', 1_048_576);
  benchReaddirplusResult(100);
  benchWriteResult();

  console.log('| operation | ours ops/s | json-pack ops/s | ours/json-pack | bytes identical |');
  console.log('|---|---:|---:|---:|:---:|');
  for (const row of rows) {
    console.log(
      `| ${row.name} | ${formatOps(row.ours)} | ${formatOps(row.theirs)} | ${(row.ours / row.theirs).toFixed(2)}x | ${row.identical ? 'yes' : 'no'} |`,
    );
  }
  console.log('');
  console.log(
    `Node ${process.version} (${process.platform}/${process.arch}), @jsonjoy.com/json-pack ${jsonPackVersion()}. ` +
      `Figures are medians of ${REPEATS} runs (each min(${MEASURE_ITERATIONS.toLocaleString('en-US')} iterations, ${MEASURE_MS / 1000} s), after a warm-up) on a shared 2-core machine.`,
  );
  console.log(
    'Decode rows: "bytes identical" means both decoders returned the same fields (handle and data bytes, name, offset, count, stable_how). ' +
      'Encode rows: the same reply bytes (ours: writer.finish() chunks joined; json-pack: encodeMessage() output).',
  );
  if (sink === -1) console.log('');
}

main();
