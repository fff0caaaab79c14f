// `npm run bench:addresses`: the longest client pause of a planned takeover and of a giveback
// with the `linux` address backend (the filer's addresses move between two hosts: network
// namespaces on a bridged LAN, test/netns) beside the `loopback` one (both nodes on one host's
// 127.0.0.0/8), on the same machine in the same run. For each backend a pair is started and,
// CYCLES times, filer a is taken over and given back, each operation under a probe of its own
// (`nfsbench probe`, ../shared/bench), whose max_pause_ms is that operation's client pause.
// A benchmark, not a test: it prints figures and exits 0 unless the pair cannot run at all.
//
// Needs root and `ip netns` for the linux rows (it says so and prints the loopback rows only).
// env: BENCH_CYCLES (5), BENCH_PROBE_RATE (1000 requests/s).

import { ClusterPair } from '../test/support/cluster-processes.js';
import { nfsbench } from '../test/support/nfsbench.js';
import { ProbeRun } from '../test/support/probe-run.js';
import { NetnsBed, netnsSupport } from '../test/netns/netns-bed.js';
import { BED_HOSTS, NetnsPair } from '../test/netns/netns-pair.js';
import { median } from './stats.js';

const CYCLES = Number(process.env.BENCH_CYCLES ?? 5);
const PROBE_RATE = Number(process.env.BENCH_PROBE_RATE ?? 1000);
const PROBE_IN_FLIGHT = 4;
/** Probe seconds before and after each operation. */
const BEFORE_SECONDS = 1;
const AFTER_SECONDS = 2;

type Operation = 'takeover' | 'giveback';

interface Backend {
  readonly name: string;
  /** The probe's URL of filer a and where it runs. */
  readonly url: string;
  readonly within: readonly string[];
  command(kind: Operation): Promise<{ ok: boolean; text: string }>;
  /** The nodes' logs, for a failure message (empty where the backend keeps them elsewhere). */
  logs(): string;
  stop(): Promise<void>;
}

async function loopback(): Promise<Backend> {
  const pair = await ClusterPair.start('bench-addresses', { filerAddresses: ['127.0.0.41', '127.0.0.42'] });
  return {
    name: 'loopback',
    url: pair.urlOf('a'),
    within: [],
    async command(kind) {
      const outcome = kind === 'takeover' ? await pair.takeover('a', 'b') : await pair.giveback('a', 'b');
      return { ok: outcome.code === 0, text: JSON.stringify(outcome.report) };
    },
    logs: () => pair.logs,
    stop: () => pair.stop(),
  };
}

async function linux(bed: NetnsBed): Promise<Backend> {
  const pair = await NetnsPair.create(bed, 'bench-addresses');
  pair.startNode('a');
  pair.startNode('b');
  await pair.waitServed('a', 'a', 'a');
  await pair.waitServed('b', 'b', 'b');
  return {
    name: 'linux',
    url: pair.url('a'),
    within: ['ip', 'netns', 'exec', bed.namespace('c')],
    async command(kind) {
      const outcome = await pair.command(kind, 'a', 'b');
      return { ok: outcome.code === 0, text: JSON.stringify(outcome.report) };
    },
    logs: () => '',
    stop: () => pair.stop(),
  };
}

/** One operation under a probe of its own: the probe's longest pause is the operation's. */
async function measure(backend: Backend, kind: Operation, binary: string): Promise<number> {
  const probe = new ProbeRun(binary, backend.url, { rate: PROBE_RATE, extra: ['-q', String(PROBE_IN_FLIGHT)], within: backend.within });
  try {
    await probe.untilSecond(BEFORE_SECONDS);
    const result = await backend.command(kind);
    if (!result.ok) throw new Error(`${backend.name} ${kind} failed: ${result.text}\n${backend.logs()}`);
    await probe.untilSecond(probe.second + AFTER_SECONDS);
    const figures = await probe.finish();
    if (figures.errors > 0 || figures.staleHandles > 0 || figures.lostAckedWrites > 0) {
      console.log(`  ${backend.name} ${kind}: errors ${figures.errors} (${figures.errorsByStatus}), stale ${figures.staleHandles}, lost ${figures.lostAckedWrites}`);
    }
    return figures.maxPauseMs;
  } finally {
    await probe.kill();
  }
}


async function main(): Promise<void> {
  const binary = await nfsbench();
  const support = await netnsSupport();
  const pauses = new Map<string, number[]>();
  const runs: (() => Promise<Backend>)[] = [loopback];
  let bed: NetnsBed | undefined;
  if (support.ok) {
    bed = await NetnsBed.create({ hosts: BED_HOSTS });
    runs.push(() => linux(bed!));
  } else {
    console.log(`linux rows skipped: ${support.reason}`);
  }
  try {
    for (const start of runs) {
      const backend = await start();
      try {
        for (let cycle = 1; cycle <= CYCLES; cycle++) {
          for (const kind of ['takeover', 'giveback'] as const) {
            const pause = await measure(backend, kind, binary);
            const key = `${backend.name} ${kind}`;
            pauses.set(key, [...(pauses.get(key) ?? []), pause]);
            console.log(`${key} ${cycle}/${CYCLES}: max_pause_ms ${pause}`);
          }
        }
      } finally {
        await backend.stop();
      }
    }
  } finally {
    await bed?.destroy();
  }
  console.log(`\nclient pause (nfsbench probe max_pause_ms, ${CYCLES} operations each, probe at ${PROBE_RATE} req/s, ${PROBE_IN_FLIGHT} in flight)\n`);
  console.log('| backend | operation | median ms | max ms | each |');
  console.log('| --- | --- | ---: | ---: | --- |');
  for (const [key, values] of pauses) {
    const [name, kind] = key.split(' ');
    console.log(`| ${name} | ${kind} | ${median(values).toFixed(1)} | ${Math.max(...values).toFixed(1)} | ${values.map((value) => value.toFixed(0)).join(' ')} |`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exitCode = 1;
});
