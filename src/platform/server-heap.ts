// How a server process's V8 heap is sized (layer: platform). Node must be started with these
// options; they cannot be set once the process runs.
//
// Why: every socket read of a WRITE (64 KiB) is a Buffer outside V8's heap, and V8 counts such
// memory allocated since its last full collection against the old generation's allocation
// limit. With a small live heap (about 9 MB for a node of a pair) the limit sits a few MB above
// it, so a stream of 1 MiB WRITEs made V8 run a full mark-compact every few milliseconds
// (--trace-gc: about 260 in 4 s), where young-generation collections would have freed those
// buffers at a fraction of the cost. A floor under the limit keeps the full collections for a
// heap that has really grown: seqwrite on a node of a loopback pair went from about 880 to 1,800
// MiB/s, and the node's peak RSS did not grow (`npm run bench`).
//
// The young generation is capped at 4 MB a semi-space (V8's default cap is 16): 16 -> 8 took a
// node's peak RSS over the benchmark's phases from 187 to 174 MB, and 8 -> 4 from 163-179 to
// 159-163 MB (a pair through seqwrite, randwrite and three meta runs, 5 and 4 runs), with no
// change in throughput beyond the run-to-run noise (the metadata rows and the four data rows,
// three alternating pairs of runs each).
//
// V8's own helper threads (parallel scavenges, concurrent marking and compilation) are limited
// to one (--v8-pool-size=1; Node's default is 4). A node's heap is tens of MB, where more helpers
// buy little, and on a two-core machine, the event loop already shares the cores with the
// kernel's network processing, libuv's pool and the partner node: a scavenge split over helpers
// that are not running waits for them, and the helpers take the CPU from the event loop. On a
// loopback pair (nfsbench meta, qd 16, medians of 4 runs, six alternating A/B pairs), with one
// helper: SETATTR 33,200 -> 41,600 a second, REMOVE 21,200 -> 27,900, MKDIR 23,500 -> 25,900,
// READDIRPLUS entries 138,500 -> 205,000.

/** Node's options for `tandem node` and `tandem serve`: the shebang of the `tandem` command and every spawn of a server carry them. */
export const SERVER_NODE_OPTIONS: readonly string[] = ['--initial-old-space-size=64', '--max-semi-space-size=4', '--v8-pool-size=1'];

/** Whether this process was started with SERVER_NODE_OPTIONS (a server logs a warning if not). */
export function serverHeapConfigured(): boolean {
  return SERVER_NODE_OPTIONS.every((option) => process.execArgv.includes(option));
}

export const SERVER_HEAP_WARNING =
  `node was started without ${SERVER_NODE_OPTIONS.join(' ')}: large WRITEs will cost full garbage collections and run at about half speed ` +
  '(run the installed `tandem` command, whose first line carries the option, or pass it to node; README: "Deploying a pair")';
