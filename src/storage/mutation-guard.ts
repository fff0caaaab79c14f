// The check every change to a volume passes first (docs/design/fencing.md): the metadata store
// and the data files call it before they write, so no path (a request, the flush timer, close)
// can change a volume this node no longer holds. Layer: storage.

import { StorageError, type MutationGuard } from './types.js';

/** Throws StorageError 'fenced' when the guard refuses `what`. */
export function assertMayMutate(guard: MutationGuard, what: string): void {
  if (!guard()) throw new StorageError('fenced', `${what} refused: this node no longer holds the volume`);
}
