// Byte sequences held as several buffers in order (layer: platform): a large RPC record as the
// socket delivered it, and a WRITE's data taken from it, are kept so rather than joined (a copy
// of every byte; see rpc/record-marking.ts). These take them apart with views, never copies.

/** The bytes of all `chunks`. */
export function byteLength(chunks: readonly Buffer[]): number {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  return length;
}

/** The first `bytes` bytes of `chunks` (all of them if fewer), as views. */
export function firstBytes(chunks: readonly Buffer[], bytes: number): Buffer[] {
  const first: Buffer[] = [];
  let wanted = bytes;
  for (const chunk of chunks) {
    if (wanted <= 0) break;
    first.push(chunk.length <= wanted ? chunk : chunk.subarray(0, wanted));
    wanted -= chunk.length;
  }
  return first;
}

/** What of `chunks` follows its first `bytes` bytes, as views (chunks used up are left out). */
export function bytesAfter(chunks: readonly Buffer[], bytes: number): Buffer[] {
  const rest: Buffer[] = [];
  let skip = bytes;
  for (const chunk of chunks) {
    if (skip < chunk.length && chunk.length > 0) rest.push(skip <= 0 ? chunk : chunk.subarray(skip));
    skip -= chunk.length;
  }
  return rest;
}
