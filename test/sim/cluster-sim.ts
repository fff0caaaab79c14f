// Seeded simulation of a Tandem pair's cluster core (STYLE.md "Tests", docs/design/takeover.md,
// docs/design/fencing.md). Two NodeCores (src/cluster/core/node-core.ts) run against a simulated
// runtime, mailbox, leases (the real LeaseKeeper and LeaseObserver) and interconnect on a virtual
// clock: no sockets, no timers, no sleeping. Every action completes after a delay drawn from one
// seeded PRNG; the seed also chooses the faults (message loss, delay, duplication and reordering,
// partitions, action failures, crashes with partial effects, pauses, mailbox outages, slow
// storage, failed lease writes, drifting clocks, whole-pair freezes, faults the nodes report) and
// the operator's commands, forced ones included. After EVERY step the safety invariants are
// checked; a run ends with a quiesce and a liveness check. The same seed gives the same trace, so
// a failing seed replays exactly: `runSeed(seed)` (or `node dist/test/sim/run-seeds.js 1 <seed>`).
//
// The pieces: prng.ts (the PRNG), sim-model.ts (names, options, faults, hooks and the simulated
// state), sim-clock.ts (a node's monotonic clock), lease-runtime.ts (a node's leases),
// pair-simulator.ts (ClusterSim: runtime, mailbox and interconnect), invariants.ts (the checks
// after every step) and trace-text.ts (the trace). This module is what tests import: it re-exports
// them and holds the random run: its plan, the quiesce and the liveness check.

import type { OperationKind } from '../../src/cluster/core/types.js';
import { ClusterSim } from './pair-simulator.js';
import { Prng } from './prng.js';
import { FILERS, NO_FAULTS, NODE_NAMES, OPERATION_DEADLINE_MS, QUIESCE_MS, type Faults, type NodeName, type RandomPlan } from './sim-model.js';
import { gist, jsonBigint } from './trace-text.js';

export { ClusterSim } from './pair-simulator.js';
export { Prng } from './prng.js';
export {
  DRAIN_DEADLINE_MS, FILERS, LEASE_MARGIN_MS, LEASE_MS, LEASE_POLL_MS, LEASE_RENEW_MS, LEASE_WAIT_MS, NO_FAULTS, NODE_NAMES, OPERATION_DEADLINE_MS, SimulationError, TRACE_TAIL,
  type CoreLike, type Faults, type IdAction, type NodeName, type RandomPlan, type Recorded, type Reply, type SimHooks, type SimOptions,
} from './sim-model.js';
export { gist, jsonBigint } from './trace-text.js';

// ---- the random run ----

/** Plans faults and commands over `durationMs` from the simulator's PRNG. */
export function planRandom(sim: ClusterSim, durationMs: number, plan: RandomPlan): void {
  const p = sim.prng;
  const at = () => p.int(0, durationMs);
  const node = () => p.pick(NODE_NAMES);
  for (let i = 0; i < plan.commands; i++) sim.inject({ kind: 'world', run: () => randomCommand(sim, plan.forced) }, at(), true);
  for (let i = 0; i < plan.crashes; i++) {
    const when = at();
    const victim = node();
    sim.inject({ kind: 'crash', node: victim }, when, true).inject({ kind: 'restart', node: victim }, when + p.int(1, 15_000), true);
  }
  for (let i = 0; i < plan.partitions; i++) {
    const when = at();
    sim.inject({ kind: 'partition' }, when, true).inject({ kind: 'heal' }, when + p.int(1, 15_000), true);
  }
  // Pauses around the lease's length are the interesting ones: shorter, longer, and in between.
  for (let i = 0; i < plan.pauses; i++) sim.inject({ kind: 'pause', node: node(), ms: p.pick([p.int(1, 900), p.int(900, 1600), p.int(1600, 8000)]) }, at(), true);
  for (let i = 0; i < plan.mailboxOutages; i++) {
    const when = at();
    const victim = node();
    sim.inject({ kind: 'mailbox', node: victim, down: true }, when, true).inject({ kind: 'mailbox', node: victim, down: false }, when + p.int(100, 8000), true);
  }
  for (let i = 0; i < plan.slowStorage; i++) {
    const when = at();
    const victim = node();
    sim.inject({ kind: 'slow', node: victim, extraMs: p.int(50, 1500) }, when, true).inject({ kind: 'slow', node: victim, extraMs: 0 }, when + p.int(200, 8000), true);
  }
  for (let i = 0; i < plan.faultReports; i++) {
    const when = at();
    const victim = node();
    const filer = p.chance(0.3) ? undefined : p.pick(FILERS).name;
    sim.inject({ kind: 'fault', node: victim, filer }, when, true).inject({ kind: 'healthy', node: victim }, when + p.int(100, 15_000), true);
  }
  for (let i = 0; i < plan.jumps; i++) sim.inject({ kind: 'jump', ms: p.int(500, 15_000) }, at(), true);
}

/** An operator's command, chosen when it is typed: mostly the one that would make progress. */
function randomCommand(sim: ClusterSim, forced: number): void {
  const p = sim.prng;
  const filer = p.chance(0.05) ? 'zzz' : p.pick(FILERS).name;
  const home = FILERS.find((f) => f.name === filer)?.home;
  const awayFromHome = sim.runtimeServers(filer).some((s) => s.node !== home);
  const sensible: OperationKind = awayFromHome ? 'giveback' : 'takeover';
  const kind: OperationKind = p.chance(0.75) ? sensible : sensible === 'takeover' ? 'giveback' : 'takeover';
  sim.operate(p.pick(NODE_NAMES), kind, filer, 0, kind === 'takeover' && p.chance(forced));
}

/** Faults off, partitions healed, paused nodes resumed, crashed ones restarted, every deadline passed. */
export async function quiesce(sim: ClusterSim): Promise<ClusterSim> {
  sim.faults = NO_FAULTS;
  sim.dropPlanned();
  sim.trace.push(`#${sim.step} @${sim.nowMs} quiesce`);
  if (sim.partitioned()) sim.heal();
  for (const node of NODE_NAMES) {
    sim.inject({ kind: 'mailbox', node, down: false }).inject({ kind: 'slow', node, extraMs: 0 }).resume(node);
    if (!sim.isAlive(node)) sim.restart(node);
    sim.inject({ kind: 'healthy', node });
  }
  await sim.run(QUIESCE_MS);
  // An action failure leaves a filer 'failed' on purpose (not served here, no retry): the
  // operator's remedy is a restart of that node. Counted, so a run shows how often.
  for (const node of NODE_NAMES) {
    const failed = sim.status(node)?.filers.filter((f) => f.phase === 'failed') ?? [];
    if (failed.length === 0) continue;
    sim.remedies.push(`${node}: ${failed.map((f) => `${f.name} (${f.failure})`).join(', ')}`);
    sim.trace.push(`#${sim.step} @${sim.nowMs} operator restarts ${node}: ${sim.remedies.at(-1)}`);
    sim.crash(node).restart(node);
  }
  return sim.run(QUIESCE_MS);
}

/** After a quiesce: every filer served once, nothing running, every command answered, and a
 *  final takeover + giveback of filer a completes. */
export async function checkLiveness(sim: ClusterSim): Promise<ClusterSim> {
  // With automatic giveback the quiesce may end in the middle of one (two nodes whose filers are
  // both away give back at the same ticks and refuse each other, then retry): wait until every
  // filer is home or its guard has tripped, and nothing runs. A filer that never comes home fails
  // the run: the home node learns who serves it from its lease readings, even after its own lease
  // lapsed and the partner's `acquired` was lost (failover-scenarios.test.ts, the SIGSTOP giveback).
  if (sim.options.autoGiveback !== undefined) {
    const home = (name: string, node: NodeName) => sim.servers(name)[0]?.node === node || sim.status(node)?.filers.find((f) => f.name === name)?.autoGiveback !== undefined;
    const idle = () => NODE_NAMES.every((node) => sim.status(node)?.operation === undefined);
    const until = sim.nowMs + QUIESCE_MS;
    while (!(FILERS.every((f) => home(f.name, f.home)) && idle()) && sim.nowMs < until) await sim.run(100);
    for (const f of FILERS) {
      if (!home(f.name, f.home)) sim.violate(`liveness: automatic giveback did not bring ${f.name} home to ${f.home} (${f.home} knows it served by ${sim.status(f.home)?.filers.find((g) => g.name === f.name)?.servedBy ?? 'nobody'})`);
    }
    await sim.runUntil(idle, 3 * OPERATION_DEADLINE_MS);
  }
  for (const { name } of FILERS) {
    const servers = sim.servers(name);
    if (servers.length !== 1) sim.violate(`liveness: filer ${name} is served by ${servers.length} nodes after the quiesce`);
  }
  for (const node of NODE_NAMES) {
    const status = sim.status(node)!;
    if (status.operation !== undefined) sim.violate(`liveness: ${node} still runs ${status.operation.kind} of ${status.operation.filer}`);
    if (!status.peerUp) sim.violate(`liveness: ${node} does not see its partner up`);
    for (const f of status.filers) if (f.phase !== 'serving' && f.phase !== 'idle') sim.violate(`liveness: filer ${f.name} is ${f.phase} on ${node}`);
  }
  for (const command of sim.commands()) {
    if (command.inc === sim.incarnation(command.node) && !sim.replies.has(command.id)) sim.violate(`liveness: ${command.id} (${command.kind} ${command.filer} to ${command.node}) was never answered`);
  }
  if (sim.servers('a')[0]!.node === 'b') await finalTrip(sim, 'giveback', 'a');
  const auto = sim.options.autoGiveback;
  await finalTrip(sim, 'takeover', auto === undefined ? 'b' : undefined);
  // With automatic giveback, a takes its filer back by itself (unless its guard has tripped).
  if (auto !== undefined) await sim.run(auto.delayMs + 2 * OPERATION_DEADLINE_MS);
  if (auto === undefined || sim.servers('a')[0]?.node !== 'a') await finalTrip(sim, 'giveback', 'a');
  return sim;
}

/** An operator's takeover or giveback of filer a that must complete, leaving it to `expected`. */
async function finalTrip(sim: ClusterSim, kind: OperationKind, expected: NodeName | undefined): Promise<void> {
  const id = sim.operate(sim.prng.pick(NODE_NAMES), kind, 'a');
  await sim.runUntil(() => sim.outcome(id) !== undefined, 3 * OPERATION_DEADLINE_MS);
  const result = sim.outcome(id)!;
  if (!result.ok) sim.violate(`liveness: final ${kind} of a failed: ${JSON.stringify(result, jsonBigint)}`);
  await sim.run(1000);
  const servers = sim.servers('a');
  if (expected !== undefined && (servers.length !== 1 || servers[0]!.node !== expected)) sim.violate(`liveness: after the final ${kind}, a is not served by ${expected} alone`);
}

// ---- seeds ----

export interface SeedResult {
  readonly seed: number;
  readonly steps: number;
  readonly trace: readonly string[];
  readonly remedies: readonly string[];
  readonly completed: number;
  /** Writes acknowledged to clients, over both filers. */
  readonly acked: number;
  /** Events recorded, counted by kind, outcome and the gist of their detail. */
  readonly tally: ReadonlyMap<string, number>;
}

/** Faults are switched off for the run's last stretch so it ends by the quiesce. */
export const RANDOM_RUN_MS = 40_000;

/** One seeded run: faults and commands chosen by the seed, invariants after every step, then
 *  quiesce and liveness. Rejects with SimulationError with the seed, step and trace tail. */
export async function runSeed(seed: number): Promise<SeedResult> {
  const p = new Prng(seed ^ 0x5eed5eed); // the configuration has its own stream
  const faulty = !p.chance(1 / 8);
  const on = (chance: number) => faulty && p.chance(chance);
  const faults: Faults = {
    messageLoss: on(0.5) ? p.next() * 0.2 : 0,
    messageDuplicate: on(0.5) ? p.next() * 0.2 : 0,
    actionFailure: on(0.3) ? p.next() * 0.05 : 0,
    crashAfterEffect: on(0.3) ? p.next() * 0.03 : 0,
    leaseWriteFailure: on(0.3) ? p.next() * 0.3 : 0,
  };
  // Monotonic clocks drift by up to ρ = 1% (fencing.md, "Clock rates"), from unrelated origins.
  const clock = () => ({ rate: 1 + (p.next() * 2 - 1) * 0.01, originMs: p.int(0, 1e9) });
  const sim = new ClusterSim({
    seed,
    faults,
    messageDelayMs: [1, p.int(1, 300)],
    actionDelayMs: [1, p.int(1, 500)],
    leaseWriteMs: [1, p.int(1, 200)],
    leaseReadMs: [1, p.int(1, 100)],
    detectMs: p.int(50, 3000),
    tickMs: p.int(50, 500),
    drainInProgressMax: 2,
    clocks: faulty ? { a: clock(), b: clock() } : { a: { rate: 1, originMs: 0 }, b: { rate: 1, originMs: 0 } },
    ackEveryMs: [20, p.int(20, 500)],
    ...(p.chance(0.3) ? { autoGiveback: { delayMs: p.int(500, 10_000), attemptsMax: p.int(1, 3), windowMs: p.int(10_000, 60_000) } } : {}),
  });
  const plan: RandomPlan = {
    commands: p.int(5, 60),
    crashes: on(0.5) ? p.int(1, 4) : 0,
    partitions: on(0.5) ? p.int(1, 3) : 0,
    jumps: on(0.2) ? p.int(1, 3) : 0,
    pauses: on(0.5) ? p.int(1, 4) : 0,
    mailboxOutages: on(0.3) ? p.int(1, 3) : 0,
    slowStorage: on(0.3) ? p.int(1, 3) : 0,
    faultReports: on(0.2) ? p.int(1, 2) : 0,
    forced: on(0.5) ? p.next() * 0.5 : 0,
  };
  planRandom(sim, RANDOM_RUN_MS, plan);
  await sim.boot(p.int(0, 500));
  await sim.run(RANDOM_RUN_MS);
  await checkLiveness(await quiesce(sim));
  const completed = sim.events.filter((r) => r.event.outcome === 'completed' && r.event.kind !== 'start').length;
  const tally = new Map<string, number>();
  for (const { event } of sim.events) {
    const key = `${event.kind}${event.cause === undefined ? '' : ` (${event.cause})`} ${event.outcome}: ${gist(event.detail ?? '')}`;
    tally.set(key, (tally.get(key) ?? 0) + 1);
  }
  const acked = FILERS.reduce((sum, { name }) => sum + sim.volume(name).acked, 0);
  return { seed, steps: sim.step, trace: sim.trace, remedies: sim.remedies, completed, acked, tally };
}
