// Buffers for bulk data, used again instead of allocated per call (layer: platform). The data of
// a READ reply is up to 1 MiB (a large WRITE call is not assembled at all: it stays in the chunks
// the socket delivered, rpc/record-marking.ts). A Buffer that large lives outside V8's heap, and
// allocating one per call made V8 run a full mark-compact about every 10 ms under sequential
// reads (--trace-gc: 415 in 5 s against 22 with reuse), which halved the throughput of a node of
// a pair.
//
// A buffer is lent by `take` and comes back by `give` once nothing refers to it any more (its
// reply has left for the socket). One that is never given back (a dropped reply, a closed
// connection) is ordinary garbage, so losing track of one leaks nothing; giving back a buffer
// the pool did not lend, or one already given back, does nothing. What `take` returns is not
// zeroed: the caller fills every byte it hands on.

/** The size of a pooled buffer: a 1 MiB READ or WRITE, and its RPC and record headers. */
export const POOLED_BUFFER_BYTES = 1024 * 1024 + 64 * 1024;
/** Smaller requests get buffers of their own: pooling them would hold a slab per 4 KiB call. */
export const POOLED_REQUEST_BYTES_MIN = 64 * 1024;
/** Buffers kept for reuse: a few calls in flight on a few connections (RSS is what they cost). */
export const POOLED_BUFFERS_KEPT_MAX = 16;

export class BufferPool {
  readonly #free: ArrayBuffer[] = [];
  /** The buffers out on loan, by their memory (a `subarray` of one shares it). */
  readonly #lent = new WeakSet<object>();

  /** `length` bytes, not zeroed; from the pool when the request is large enough to be worth it. */
  take(length: number): Buffer {
    if (length < POOLED_REQUEST_BYTES_MIN || length > POOLED_BUFFER_BYTES) return Buffer.allocUnsafe(length);
    const memory = this.#free.pop() ?? new ArrayBuffer(POOLED_BUFFER_BYTES);
    this.#lent.add(memory);
    return Buffer.from(memory, 0, length);
  }

  /** Gives back what `take` lent (or any view of it); anything else is ignored. */
  give(buffer: Buffer): void {
    const memory = buffer.buffer;
    if (!this.#lent.delete(memory)) return;
    if (this.#free.length < POOLED_BUFFERS_KEPT_MAX) this.#free.push(memory as ArrayBuffer);
  }

  /** Buffers waiting to be lent again. */
  get kept(): number {
    return this.#free.length;
  }
}

/** The process's pool: READ data (storage), given back by the RPC server once replied to. */
export const bulkBuffers = new BufferPool();
