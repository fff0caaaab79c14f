// The worker-thread entry of the data-file reaper (data-file-reaper.ts, which says why): closes
// and deletes with blocking calls, one batch per message, and answers a batch's barrier once
// everything before it is done. A failed close or unlink is ignored: it only wastes a resource.

import { closeSync, unlinkSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { ReaperBatch } from './data-file-reaper.js';

parentPort?.on('message', (batch: ReaperBatch) => {
  for (const fd of batch.descriptors) {
    try {
      closeSync(fd);
    } catch {
      // EBADF or EIO: nothing to do again
    }
  }
  for (const path of batch.paths) {
    try {
      unlinkSync(path);
    } catch {
      // ENOENT (never written) or another failure: the file only wastes space
    }
  }
  if (batch.barrier !== undefined) parentPort?.postMessage(batch.barrier);
});
