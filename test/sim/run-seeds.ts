// The long simulation run (test/sim, STYLE.md "Tests"): `node dist/test/sim/run-seeds.js [count]
// [firstSeed]` runs `count` seeds (default 2000) from `firstSeed` (default 1) through the cluster
// simulator, with every fault of the random run (crashes, pauses, mailbox outages, slow storage,
// failed lease writes, drifting clocks, partitions, message faults, freezes, reported faults and
// forced takeovers), and prints every failure with its seed; the exit status is the number of
// failures (capped at 1). A failing seed replays exactly: `node dist/test/sim/run-seeds.js 1 <seed>`.
// SIM_TALLY=1 also prints the events recorded, counted by what happened.

import { runSeed, SimulationError } from './cluster-sim.js';

const count = Number(process.argv[2] ?? 2000);
const first = Number(process.argv[3] ?? 1);
if (!Number.isSafeInteger(count) || count < 1 || !Number.isSafeInteger(first)) {
  console.error('usage: node dist/test/sim/run-seeds.js [count] [firstSeed]');
  process.exit(2);
}

const failures: number[] = [];
let steps = 0;
let completed = 0;
let acked = 0;
let remedied = 0;
const tally = new Map<string, number>();
const started = performance.now();
for (let seed = first; seed < first + count; seed++) {
  try {
    const result = await runSeed(seed);
    steps += result.steps;
    completed += result.completed;
    acked += result.acked;
    if (result.remedies.length > 0) remedied++;
    for (const [key, n] of result.tally) tally.set(key, (tally.get(key) ?? 0) + n);
  } catch (error) {
    if (!(error instanceof SimulationError)) throw error;
    failures.push(seed);
    console.log(`FAIL ${error.message}\n`);
  }
}
if (process.env['SIM_TALLY'] !== undefined) {
  for (const [key, n] of [...tally].sort((x, y) => y[1] - x[1])) console.log(`${String(n).padStart(8)}  ${key}`);
}
const seconds = ((performance.now() - started) / 1000).toFixed(1);
console.log(
  `${count} seeds from ${first}: ${count - failures.length} passed, ${failures.length} failed` +
    `${failures.length > 0 ? ` (seeds ${failures.join(', ')})` : ''}; ${steps} steps, ` +
    `${completed} operations completed, ${acked} writes acknowledged, ` +
    `${remedied} runs needed an operator restart after an action failure; ${seconds} s`,
);
process.exitCode = failures.length > 0 ? 1 : 0;
