// Address takeover across hosts: two `tandem node` processes with the `linux` address backend,
// each in a network namespace of its own on a bridged LAN (netns-bed.ts), and the shared
// `nfsbench probe` as a client in a third. The filer's addresses must move with it: added on the
// node that serves it, removed from the one that stops, announced so that the client's
// neighbour table follows; a killed node's addresses are removed by its guard; and a takeover
// that cannot get the addresses is refused whole. Runs only as root with `ip netns` (as in CI);
// otherwise every test is skipped with the reason.

import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { filerIn } from '../support/cluster-processes.js';
import { nfsbench } from '../support/nfsbench.js';
import { ProbeRun } from '../support/probe-run.js';
import { NetnsBed, netnsSupport } from './netns-bed.js';
import { BED_HOSTS, FILER_PORT, NetnsPair } from './netns-pair.js';

const support = await netnsSupport();
const skip = support.ok ? false : support.reason;
if (!support.ok) console.log(`netns tests skipped: ${support.reason}`);

const FILER_A_V4 = '198.18.0.11';
const FILER_A_V6 = '2001:2::11';
const PROBE_RATE = 1000;
const PROBE_IN_FLIGHT = 4;

let bed: NetnsBed;
before(async () => {
  if (support.ok) bed = await NetnsBed.create({ hosts: BED_HOSTS });
});
after(async () => {
  await bed?.destroy();
});

async function startPair(t: { after(fn: () => Promise<void>): void }, prefix: string): Promise<NetnsPair> {
  const pair = await NetnsPair.create(bed, prefix);
  t.after(() => pair.stop());
  pair.startNode('a');
  pair.startNode('b');
  await pair.waitServed('a', 'a', 'a');
  await pair.waitServed('b', 'b', 'b');
  return pair;
}

test('netns: takeover, giveback and kill -9 move filer a\'s addresses under the probe: 0 errors, 0 stale, 0 lost, and the client\'s neighbour table follows', { skip }, async (t) => {
  const pair = await startPair(t, 'netns-takeover');
  const [macA, macB] = [await bed.mac('a'), await bed.mac('b')];
  assert.ok((await pair.addressesOn('a')).includes(FILER_A_V4) && (await pair.addressesOn('a')).includes(FILER_A_V6), 'a holds filer a\'s addresses');
  assert.ok(!(await pair.addressesOn('b')).includes(FILER_A_V4), 'b does not');

  const probe = new ProbeRun(await nfsbench(), pair.url('a'), { rate: PROBE_RATE, extra: ['-q', String(PROBE_IN_FLIGHT)], within: ['ip', 'netns', 'exec', bed.namespace('c')] });
  t.after(() => probe.kill());
  await probe.untilSecond(2);
  await pair.waitForNeighbour('c', FILER_A_V4, macA);

  // Planned takeover: the addresses leave a and arrive on b; the client is told.
  const takeover = await pair.command('takeover', 'a', 'b');
  assert.equal(takeover.code, 0, JSON.stringify(takeover));
  await pair.waitForAddresses('a', 'a gave filer a\'s addresses up', (addresses) => !addresses.includes(FILER_A_V4) && !addresses.includes(FILER_A_V6));
  await pair.waitForAddresses('b', 'b holds filer a\'s addresses', (addresses) => addresses.includes(FILER_A_V4) && addresses.includes(FILER_A_V6));
  await pair.waitForNeighbour('c', FILER_A_V4, macB);
  // The IPv6 address is listened on too, from b (libnfs 5 cannot take an IPv6 URL: a TCP connect).
  const connect = `require('net').connect({ host: '${FILER_A_V6}', port: ${FILER_PORT} }).on('connect', () => process.exit(0)).on('error', (e) => { console.error(e.message); process.exit(1); })`;
  const reached = await bed.exec('c', process.execPath, ['-e', connect], { timeoutMs: 20_000 });
  assert.equal(reached.code, 0, `a connection to [${FILER_A_V6}]:${FILER_PORT} after the takeover: ${reached.stderr}`);
  await pair.waitForNeighbour('c', FILER_A_V6, macB);
  await probe.untilSecond(probe.second + 2);

  // Giveback: back to a.
  const giveback = await pair.command('giveback', 'a', 'b');
  assert.equal(giveback.code, 0, JSON.stringify(giveback));
  await pair.waitForAddresses('b', 'b gave filer a\'s addresses back', (addresses) => !addresses.includes(FILER_A_V4));
  await pair.waitForNeighbour('c', FILER_A_V4, macA);
  await probe.untilSecond(probe.second + 2);

  // kill -9 of a's node: its guard removes the addresses, b takes them over.
  await pair.kill('a');
  await pair.waitServed('b', 'a', 'b', 10_000);
  await pair.waitForAddresses('a', 'a\'s guard removed filer a\'s addresses', (addresses) => !addresses.includes(FILER_A_V4) && !addresses.includes(FILER_A_V6));
  await pair.waitForAddresses('b', 'b holds filer a\'s addresses after the kill', (addresses) => addresses.includes(FILER_A_V4));
  await pair.waitForNeighbour('c', FILER_A_V4, macB);
  await probe.untilSecond(probe.second + 3);
  const figures = await probe.finish();
  t.diagnostic(`probe: max_pause_ms=${figures.maxPauseMs} errors=${figures.errors} (${figures.errorsByStatus}) stale=${figures.staleHandles} lost=${figures.values.get('lost_acked_writes')} reconnects=${figures.values.get('reconnects')}`);
  t.diagnostic(`takeover ${JSON.stringify(takeover.report)}; giveback ${JSON.stringify(giveback.report)}`);
  // The takeover and giveback hand their replies over; after the kill -9, b has those a mirrored
  // to it, all but the last ~10 ms: a CREATE or REMOVE a did then and b does again answers EXIST
  // or NOENT (as on loopback, test/integration/failover-kill.test.ts). Nothing else may fail.
  assert.ok(figures.errors <= PROBE_IN_FLIGHT, `at most ${PROBE_IN_FLIGHT} errors (requests in flight at the kill): ${figures.errors}\n${figures.stdout}`);
  assert.equal(figures.retransmitErrors, figures.errors, `every error is on a retransmitted request\n${figures.stdout}`);
  if (figures.errors > 0) assert.match(figures.errorsByStatus, /^(NFS3ERR_(EXIST|NOENT)=\d+\s*)+$/, figures.stdout);
  assert.equal(figures.staleHandles, 0, figures.stdout);
  assert.equal(figures.lostAckedWrites, 0, figures.stdout);
  assert.ok(figures.verified, figures.stdout);
  assert.equal(filerIn(await pair.status('b'), 'a').state, 'taken-over');
});

test('netns: a node whose interface does not exist refuses to start, naming it', { skip }, async (t) => {
  const pair = await NetnsPair.create(bed, 'netns-no-interface', { interfaces: { b: 'eth9' } });
  t.after(() => pair.stop());
  pair.startNode('b');
  const code = await pair.exitOf('b');
  assert.notEqual(code, 0);
  assert.match(pair.stderr('b'), /interface eth9 cannot be read on this host/, pair.stderr('b'));
});

test('netns: a node without CAP_NET_ADMIN refuses to start, saying what it needs', { skip }, async (t) => {
  const pair = await NetnsPair.create(bed, 'netns-no-privilege');
  t.after(() => pair.stop());
  pair.startNode('b', { prefix: ['setpriv', '--bounding-set=-net_admin', '--inh-caps=-net_admin', '--'] });
  const code = await pair.exitOf('b');
  assert.notEqual(code, 0);
  assert.match(pair.stderr('b'), /needs CAP_NET_ADMIN/, pair.stderr('b'));
});

test('netns: a takeover whose `ip addr add` fails midway is refused whole: b keeps none of the addresses and a serves its filer again', { skip }, async (t) => {
  // a waits for b's acknowledgement for at most the operation deadline before it reads the mailbox.
  const pair = await NetnsPair.create(bed, 'netns-ip-fails', { timing: { operationDeadlineMs: 3_000 } });
  t.after(() => pair.stop());
  // b's `ip` refuses to add IPv6 addresses: filer a's IPv4 address is added first, then this fails.
  const shims = path.join(pair.directory, 'shims');
  mkdirSync(shims);
  writeFileSync(path.join(shims, 'ip'), [
    '#!/bin/sh',
    'case "$*" in *"addr add 2001:"*) echo "RTNETLINK answers: Permission denied" >&2; exit 2;; esac',
    'exec /bin/ip "$@"',
    '',
  ].join('\n'));
  chmodSync(path.join(shims, 'ip'), 0o755);
  pair.startNode('a');
  pair.startNode('b', { env: { ...process.env, PATH: `${shims}:${process.env.PATH ?? ''}` } });
  await pair.waitServed('a', 'a', 'a');
  await pair.waitServed('b', 'b', 'b');

  const takeover = await pair.command('takeover', 'a', 'b');
  assert.notEqual(takeover.code, 0, JSON.stringify(takeover));
  assert.match(JSON.stringify(takeover.report), /cannot add 2001:2::11\/64 to eth0: RTNETLINK answers: Permission denied/);
  // a, the home node, takes its filer back through the released lease; b holds nothing of it.
  await pair.waitServed('a', 'a', 'a', 15_000);
  await pair.waitForAddresses('a', 'a holds filer a\'s addresses again', (addresses) => addresses.includes(FILER_A_V4) && addresses.includes(FILER_A_V6));
  const onB = await pair.addressesOn('b');
  assert.ok(!onB.includes(FILER_A_V4) && !onB.includes(FILER_A_V6), `b holds ${onB.join(', ')}`);
  const status = await pair.status('b');
  assert.equal(filerIn(status, 'a').servedBy, 'a', JSON.stringify(status));
});

test('netns: an address another host answers for is not taken: the filer is served by nobody, status says why, and the other filer is unaffected', { skip }, async (t) => {
  const pair = await NetnsPair.create(bed, 'netns-duplicate');
  t.after(() => pair.stop());
  // Host x, a stranger on the LAN, uses filer a's IPv4 address.
  await bed.execOk('x', 'ip', ['addr', 'add', `${FILER_A_V4}/24`, 'dev', 'eth0']);
  t.after(() => bed.exec('x', 'ip', ['addr', 'del', `${FILER_A_V4}/24`, 'dev', 'eth0']).then(() => undefined));
  const macX = await bed.mac('x');
  pair.startNode('a');
  pair.startNode('b');
  await pair.waitServed('b', 'b', 'b');
  const status = await pair.waitForStatus('a', 'a says why it does not serve a', (report) => /answered for by another host/.test(JSON.stringify(filerIn(report, 'a'))));
  const filerA = filerIn(status, 'a');
  assert.match(JSON.stringify(filerA), new RegExp(`${FILER_A_V4.replaceAll('.', '\\.')} is answered for by another host \\(${macX}\\)`), JSON.stringify(filerA));
  assert.notEqual(filerA.phase, 'serving', JSON.stringify(filerA));
  for (const node of ['a', 'b']) {
    const addresses = await pair.addressesOn(node);
    assert.ok(!addresses.includes(FILER_A_V4) && !addresses.includes(FILER_A_V6), `${node} holds ${addresses.join(', ')}`);
  }
  assert.equal(filerIn(await pair.status('b'), 'b').servedBy, 'b');
});
