// Closes data-file descriptors and deletes data files in a worker thread, in batches (layer:
// storage). FileData hands it the descriptors it evicts from its cache and the data files of
// deleted inodes; nothing waits for either, and a failure of either loses nothing (a descriptor
// that was not closed, or a file that was not deleted, only wastes a resource: fileids are never
// reused). Work is sent as one message when REAPER_BATCH_MAX items are queued, or
// REAPER_DELAY_MS after the first: a delay costs nothing here, and a message a turn (a WRITE
// phase evicts one descriptor a call) cost more than the pool's jobs did.
//
// Why not libuv's pool (fs.close, fs.unlink): each call is a job of its own, with its own
// wake-up of a pool thread, completion callback and promise. A metadata benchmark's REMOVE phase
// (a close and an unlink a file) ran at 21,000 a second that way and at 36,000 with neither done
// at all; on a two-core machine the pool threads' wake-ups took the CPU from the event loop.
//
// `settled` waits until everything queued before it is done (a barrier message, answered once the
// worker reached it). If the worker cannot start or dies, the work goes through Node's
// asynchronous fs calls instead, as it did before this class.

import { close, unlink } from 'node:fs';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';

/** One batch of work, and the barrier to answer once it is done (if any). */
export interface ReaperBatch {
  readonly descriptors: readonly number[];
  readonly paths: readonly string[];
  readonly barrier?: number;
}

/** Items (descriptors and paths) that make a batch go at once. */
export const REAPER_BATCH_MAX = 256;
/** How long the first item of a batch waits for others. */
export const REAPER_DELAY_MS = 10;

const closeFile = promisify(close);
const unlinkFile = promisify(unlink);
const WORKER_FILE = new URL('./data-file-reaper-worker.js', import.meta.url);

export class DataFileReaper {
  readonly #workerFile: URL;
  #worker: Worker | undefined;
  #failed = false;
  #descriptors: number[] = [];
  #paths: string[] = [];
  #timer: NodeJS.Timeout | undefined;
  #barriers = 0;
  readonly #waiting = new Map<number, () => void>();
  /** Batches done with Node's asynchronous fs calls (no worker), until they are. */
  readonly #inThisThread = new Set<Promise<void>>();

  /** `workerFile`: the worker's entry (a test names one that cannot run). */
  constructor(workerFile = WORKER_FILE) {
    this.#workerFile = workerFile;
  }

  /** Closes `fd` soon; the caller must not use it again. */
  close(fd: number): void {
    this.#descriptors.push(fd);
    this.#queueFlush();
  }

  /** Deletes the file at `path` soon (a missing file is not an error). */
  unlink(path: string): void {
    this.#paths.push(path);
    this.#queueFlush();
  }

  /** Resolves once everything queued so far has been done (or tried). */
  settled(): Promise<void> {
    // Never the reason to start the worker: a volume closing (a takeover's release) would wait
    // for its start, about 30 ms; without one, what is left goes through the pool.
    this.#flush(this.#worker !== undefined);
    const worker = this.#worker;
    if (worker === undefined) return Promise.all(this.#inThisThread).then(() => undefined);
    const barrier = ++this.#barriers;
    return new Promise((resolve) => {
      this.#waiting.set(barrier, resolve);
      worker.ref(); // until the barrier is answered, the worker keeps the process up
      worker.postMessage({ descriptors: [], paths: [], barrier } satisfies ReaperBatch);
    });
  }

  #queueFlush(): void {
    if (this.#descriptors.length + this.#paths.length >= REAPER_BATCH_MAX) this.#flush();
    else this.#timer ??= setTimeout(() => this.#flush(), REAPER_DELAY_MS);
  }

  /** Sends what is queued; `mayStart`: to a worker started for it if none runs yet. */
  #flush(mayStart = true): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#descriptors.length === 0 && this.#paths.length === 0) return;
    const batch: ReaperBatch = { descriptors: this.#descriptors, paths: this.#paths };
    this.#descriptors = [];
    this.#paths = [];
    const worker = mayStart ? this.#started() : this.#worker;
    if (worker !== undefined) {
      worker.postMessage(batch);
      return;
    }
    const done = doInThisThread(batch).finally(() => this.#inThisThread.delete(done));
    this.#inThisThread.add(done);
  }

  /** The worker, started on first use; undefined once it could not start or has died. */
  #started(): Worker | undefined {
    if (this.#failed) return undefined;
    if (this.#worker !== undefined) return this.#worker;
    try {
      const worker = new Worker(this.#workerFile, {
        name: 'data-file reaper',
        execArgv: [],
        resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
      });
      worker.unref();
      worker.on('message', (barrier: number) => this.#answered(barrier));
      worker.on('error', () => undefined); // followed by 'exit'
      worker.once('exit', () => this.#died());
      this.#worker = worker;
      return worker;
    } catch {
      this.#failed = true;
      return undefined;
    }
  }

  #answered(barrier: number): void {
    this.#waiting.get(barrier)?.();
    this.#waiting.delete(barrier);
    if (this.#waiting.size === 0) this.#worker?.unref();
  }

  /** The worker is gone: whatever it had not done is lost (a waste, not a loss); go on without it. */
  #died(): void {
    this.#failed = true;
    this.#worker = undefined;
    for (const resolve of this.#waiting.values()) resolve();
    this.#waiting.clear();
  }
}

/** The batch through libuv's pool; resolves once every call has ended (failures are ignored). */
async function doInThisThread(batch: ReaperBatch): Promise<void> {
  const ignoreFailure = () => undefined;
  await Promise.all([...batch.descriptors.map((fd) => closeFile(fd).catch(ignoreFailure)), ...batch.paths.map((path) => unlinkFile(path).catch(ignoreFailure))]);
}

/** The process's reaper: one worker serves every volume. */
export const dataFileReaper = new DataFileReaper();
