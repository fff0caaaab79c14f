// Seeded simulation of a Tandem pair's cluster core (STYLE.md "Tests", docs/design/takeover.md).
// Two NodeCores (src/cluster/core/node-core.ts) run against a simulated runtime, mailbox and
// interconnect on a virtual clock: no sockets, no timers, no sleeping. Every action completes
// after a delay drawn from one seeded PRNG; the seed also chooses the faults (message loss,
// delay, duplication and reordering, partitions, action failures, crashes with partial effects,
// clock jumps) and the operator's commands. After EVERY step the safety invariants are checked;
// a run ends with a quiesce and a liveness check. The same seed gives the same trace, so a
// failing seed replays exactly: `runSeed(seed)` (or `node dist/test/sim/run-seeds.js 1 <seed>`).
//
// The pieces: prng.ts (the PRNG), sim-model.ts (names, options, faults, hooks and the simulated
// state), pair-simulator.ts (ClusterSim: runtime, mailbox and interconnect), invariants.ts (the
// checks after every step) and trace-text.ts (the trace). This module is what tests import: it
// re-exports them and holds `runSeed`, the random run.

import { ClusterSim } from './pair-simulator.js';
import { Prng } from './prng.js';
import type { Faults, RandomPlan } from './sim-model.js';
import { gist } from './trace-text.js';

export { ClusterSim } from './pair-simulator.js';
export { Prng } from './prng.js';
export {
  DRAIN_DEADLINE_MS, FILERS, NO_FAULTS, NODE_NAMES, OPERATION_DEADLINE_MS, SimulationError, TRACE_TAIL,
  type CoreLike, type Faults, type IdAction, type NodeName, type RandomPlan, type Recorded, type Reply, type SimHooks, type SimOptions,
} from './sim-model.js';
export { gist, jsonBigint } from './trace-text.js';

// ---- seeds ----

export interface SeedResult {
  readonly seed: number;
  readonly steps: number;
  readonly trace: readonly string[];
  readonly remedies: readonly string[];
  readonly completed: number;
  /** Events recorded, counted by kind, outcome and the gist of their detail. */
  readonly tally: ReadonlyMap<string, number>;
}

/** Faults are switched off for the run's last stretch so it ends by the quiesce. */
export const RANDOM_RUN_MS = 40_000;

/** One seeded run: faults and commands chosen by the seed, invariants after every step, then
 *  quiesce and liveness. Throws SimulationError with the seed, step and trace tail. */
export function runSeed(seed: number): SeedResult {
  const p = new Prng(seed ^ 0x5eed5eed); // the configuration has its own stream
  const faulty = !p.chance(1 / 8);
  const on = (chance: number) => faulty && p.chance(chance);
  const faults: Faults = {
    messageLoss: on(0.5) ? p.next() * 0.2 : 0,
    messageDuplicate: on(0.5) ? p.next() * 0.2 : 0,
    actionFailure: on(0.3) ? p.next() * 0.05 : 0,
    crashAfterEffect: on(0.3) ? p.next() * 0.03 : 0,
  };
  const sim = new ClusterSim({
    seed,
    faults,
    messageDelayMs: [1, p.int(1, 300)],
    actionDelayMs: [1, p.int(1, 500)],
    detectMs: p.int(50, 3000),
    tickMs: p.int(50, 500),
    drainInProgressMax: 2,
  });
  const plan: RandomPlan = {
    commands: p.int(5, 60),
    crashes: on(0.5) ? p.int(1, 4) : 0,
    partitions: on(0.5) ? p.int(1, 3) : 0,
    jumps: on(0.3) ? p.int(1, 3) : 0,
  };
  sim.planRandom(RANDOM_RUN_MS, plan);
  sim.boot(p.int(0, 500));
  sim.run(RANDOM_RUN_MS);
  sim.quiesce().checkLiveness();
  const completed = sim.events.filter((r) => r.event.outcome === 'completed' && r.event.kind !== 'start').length;
  const tally = new Map<string, number>();
  for (const { event } of sim.events) {
    const key = `${event.kind} ${event.outcome}: ${gist(event.detail ?? '')}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  return { seed, steps: sim.step, trace: sim.trace, remedies: sim.remedies, completed, tally };
}
