// Which volume a file handle belongs to, read without verifying it: enough for the server to
// route a request to the volume (and its request gate) that will verify it. Layer: storage.

import { HANDLE_FORMAT, VOLUME_ID_BYTES } from './file-handles.js';

/** Whether `handle` has our format's first byte and room for a volume id (it may still be forged). */
export function isHandleOfOurFormat(handle: Buffer): boolean {
  return handle.length >= 1 + VOLUME_ID_BYTES && handle[0] === HANDLE_FORMAT;
}

/** The volume id inside a handle of our format, or undefined when the handle is not one. */
export function volumeIdOfHandle(handle: Buffer): Buffer | undefined {
  return isHandleOfOurFormat(handle) ? handle.subarray(1, 1 + VOLUME_ID_BYTES) : undefined;
}

/**
 * A number drawn from the volume id inside a handle of our format (from its first 30 bits, so
 * V8 keeps it a small integer), or undefined when the handle is not one. The key of a volume's
 * export for every call, which reads it without allocating: the id as a Buffer view and its hex
 * text cost about 0.3 us a lookup, twice a call.
 */
export function volumeKeyOfHandle(handle: Buffer): number | undefined {
  return isHandleOfOurFormat(handle) ? volumeKeyAt(handle, 1) : undefined;
}

/** The key `volumeKeyOfHandle` gives for handles of the volume `id`. */
export function volumeKeyOf(id: Buffer): number {
  return volumeKeyAt(id, 0);
}

function volumeKeyAt(bytes: Buffer, offset: number): number {
  return ((bytes[offset]! & 0x3f) << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!;
}

/** Whether a handle of our format holds the volume id `id`, compared in place. */
export function handleHoldsVolume(handle: Buffer, id: Buffer): boolean {
  for (let index = 0; index < VOLUME_ID_BYTES; index++) if (handle[1 + index] !== id[index]) return false;
  return true;
}
