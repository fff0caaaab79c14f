// `tandem demo [DIR]`: the quick start (`npm start`). Initialises DIR (default ./tandem-demo)
// as a loopback pair if it is not one yet, runs both nodes as separate processes, waits until
// both filers are served at home, and prints each filer's NFS URL, the admin API and the
// commands to try a takeover and a giveback; Ctrl-C stops both nodes. Layer: cli.

import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../cluster/config.js';
import { initCluster } from '../cluster/init.js';
import { adminToken } from '../admin/admin-token.js';
import { AdminClient } from '../admin/admin-client.js';
import { settledAtHome, type StatusReport } from '../admin/cluster-service.js';
import { SERVER_NODE_OPTIONS } from '../platform/server-heap.js';
import { parseCommand } from './usage.js';

/** How long the nodes may take to answer their admin APIs. */
export const DEMO_START_DEADLINE_MS = 30_000;
const POLL_MS = 100;
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

const USAGE = `usage: tandem demo [DIR]

Runs a filer pair on loopback: node a serves filer a on 127.0.0.11, node b serves filer b
on 127.0.0.12. DIR (default ./tandem-demo) is initialised with 'tandem init' the first time.
Prints the NFS URLs and the commands to try a takeover; Ctrl-C stops both nodes.

options:
  -h, --help   this text`;

export async function demoCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, {}, USAGE, 1);
  if (parsed === undefined) return 0;
  const directory = path.resolve(parsed.positionals[0] ?? 'tandem-demo');
  const configFile = path.join(directory, 'tandem.yaml');
  if (!existsSync(configFile)) await initCluster(directory);
  const config = await loadConfig(configFile);
  // Listening before the nodes start: a Ctrl-C while they start stops them too, not only the demo.
  let stopRequested = false;
  let requestStop = () => {};
  const stopSignal = new Promise<void>((resolve) => (requestStop = () => ((stopRequested = true), resolve())));
  process.once('SIGINT', requestStop);
  process.once('SIGTERM', requestStop);
  const nodes = config.nodes.map((node) => spawn(process.execPath, [...SERVER_NODE_OPTIONS, MAIN, 'node', '--config', configFile, '--node', node.name], { stdio: ['ignore', 'ignore', 'inherit'] }));
  const stopAll = () => Promise.all(nodes.map(stopChild));
  try {
    const token = adminToken(config.secret);
    const reports = await Promise.all(config.nodes.map((node) => waitForSettled(new AdminClient({ endpoints: [node.admin], token, timeoutMs: POLL_MS * 10 }), nodes, () => stopRequested)));
    if (stopRequested) return 0;
    const status = reports.filter((nodeReport) => nodeReport !== undefined);
    const report = status[0]!;
    const unsettled = status.filter((nodeReport) => !settledAtHome(nodeReport)).map((nodeReport) => nodeReport.node);
    const lines = [
      `Tandem demo: a filer pair on loopback (configuration ${configFile})`,
      '',
      ...(unsettled.length === 0 ? [] : [`warning: after ${DEMO_START_DEADLINE_MS} ms, node ${unsettled.join(' and ')} does not yet report both filers served at home; 'tandem status' says why`, '']),
      ...report.filers.flatMap((filer) => [`filer ${filer.name} (served by ${filer.servedBy ?? 'no node'}):`, ...filer.urls.map((url) => `  nfs-ls '${url}'`)]),
      '',
      ...config.nodes.map((node) => `admin API of node ${node.name}: http://${node.admin.host}:${node.admin.port}/v1/status`),
      '',
      'try, in another terminal:',
      `  export TANDEM_CONFIG=${configFile}`,
      '  tandem status             # who serves what, at which epoch',
      '  tandem takeover a         # node b takes over filer a: its address, volumes and clients',
      '  tandem giveback a         # and gives it back to node a',
      '(from a checkout: node dist/src/cli/main.js in place of tandem)',
      '',
      'Ctrl-C stops both nodes.',
    ];
    process.stdout.write(lines.join('\n') + '\n');
    await Promise.race([stopSignal, ...nodes.map((node) => new Promise((resolve) => node.once('exit', resolve)))]);
  } finally {
    await stopAll();
    process.off('SIGINT', requestStop);
    process.off('SIGTERM', requestStop);
  }
  return 0;
}

/**
 * The node's status once it reports both filers served at home (so the URLs printed work at
 * once), or its last status when the deadline passes first (or a stop is asked for); fails if a
 * node exits, or if the admin API has not answered by the deadline.
 */
async function waitForSettled(client: AdminClient, nodes: readonly ChildProcess[], stopRequested: () => boolean): Promise<StatusReport | undefined> {
  const deadline = Date.now() + DEMO_START_DEADLINE_MS;
  let last: StatusReport | undefined;
  while (!stopRequested()) {
    const exited = nodes.find((node) => node.exitCode !== null);
    if (exited !== undefined) throw new Error(`a node exited (code ${exited.exitCode}) before it was ready`);
    try {
      last = await client.status();
      if (settledAtHome(last)) return last;
    } catch (error) {
      if (last === undefined && Date.now() > deadline) throw new Error(`the admin API did not answer within ${DEMO_START_DEADLINE_MS} ms: ${String(error)}`);
    }
    if (last !== undefined && Date.now() > deadline) return last;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  return last;
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
