// Which volume a file handle belongs to, read without verifying it: enough for the server to
// route a request to the volume (and its request gate) that will verify it. Layer: storage.

import { HANDLE_FORMAT, VOLUME_ID_BYTES } from './file-handles.js';

/** The volume id inside a handle of our format, or undefined when the handle is not one. */
export function volumeIdOfHandle(handle: Buffer): Buffer | undefined {
  if (handle.length < 1 + VOLUME_ID_BYTES || handle[0] !== HANDLE_FORMAT) return undefined;
  return handle.subarray(1, 1 + VOLUME_ID_BYTES);
}
