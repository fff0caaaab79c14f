import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BufferPool, POOLED_BUFFER_BYTES, POOLED_BUFFERS_KEPT_MAX, POOLED_REQUEST_BYTES_MIN } from './buffer-pool.js';

test('a buffer given back is lent again, also when a view of it comes back', () => {
  const pool = new BufferPool();
  const first = pool.take(1024 * 1024);
  assert.equal(first.length, 1024 * 1024);
  pool.give(first.subarray(0, 10));
  assert.equal(pool.kept, 1);
  const second = pool.take(POOLED_REQUEST_BYTES_MIN);
  assert.equal(second.buffer, first.buffer, 'the same memory');
  assert.equal(second.length, POOLED_REQUEST_BYTES_MIN);
  assert.equal(pool.kept, 0);
});

test('only what the pool lent, once, comes back: a second give, a foreign buffer and a small request are ignored', () => {
  const pool = new BufferPool();
  const lent = pool.take(POOLED_BUFFER_BYTES);
  pool.give(lent);
  pool.give(lent);
  assert.equal(pool.kept, 1, 'a second give of the same buffer does not put it in twice');
  pool.give(Buffer.alloc(POOLED_BUFFER_BYTES));
  assert.equal(pool.kept, 1, 'a buffer the pool did not lend is not taken');
  const small = pool.take(POOLED_REQUEST_BYTES_MIN - 1);
  const large = pool.take(POOLED_BUFFER_BYTES + 1);
  pool.give(small);
  pool.give(large);
  assert.equal(pool.kept, 1, 'requests outside the pooled sizes get buffers of their own');
});

test('the pool keeps at most POOLED_BUFFERS_KEPT_MAX buffers; the rest are left to the garbage collector', () => {
  const pool = new BufferPool();
  const lent = Array.from({ length: POOLED_BUFFERS_KEPT_MAX + 5 }, () => pool.take(POOLED_BUFFER_BYTES));
  assert.equal(new Set(lent.map((buffer) => buffer.buffer)).size, lent.length, 'each loan is its own memory');
  for (const buffer of lent) pool.give(buffer);
  assert.equal(pool.kept, POOLED_BUFFERS_KEPT_MAX);
});
