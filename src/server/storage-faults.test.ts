// Storage faults: when I/O errors count as a fault of the storage.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { STORAGE_ERRORS_FAULT, STORAGE_ERRORS_WINDOW_MS, StorageFaults } from './storage-faults.js';

test('storage faults: enough I/O errors within the window are reported once, with the last error', () => {
  // Goal: one bad sector is not a fault; a failing disk is, and the core hears of it once.
  let now = 0;
  const reports: string[] = [];
  const faults = new StorageFaults((reason) => reports.push(reason), () => now);
  for (let i = 0; i < STORAGE_ERRORS_FAULT - 1; i++) {
    faults.record(`EIO ${i}`);
    now += STORAGE_ERRORS_WINDOW_MS;
  }
  assert.deepEqual(reports, [], 'errors spread over more than the window are not a fault');
  for (let i = 0; i < STORAGE_ERRORS_FAULT + 2; i++) faults.record(`EIO burst ${i}`);
  assert.equal(reports.length, 1);
  assert.match(reports[0]!, new RegExp(`${STORAGE_ERRORS_FAULT} storage I/O errors within ${STORAGE_ERRORS_WINDOW_MS} ms, the last: EIO burst`));
});
