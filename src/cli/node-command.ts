// `tandem node --config FILE --node NAME`: one node of a filer pair in the foreground, with its
// admin API, until SIGINT or SIGTERM, which stop it cleanly: calls in progress drain, and each
// filer it serves is released (hand-off written, lease released) so its partner takes it over;
// automatic giveback, if enabled, brings them home once the node is back (docs/design/
// fencing.md). Layer: cli.

import { createLogger } from '../platform/logger.js';
import { SERVER_HEAP_WARNING, serverHeapConfigured } from '../platform/server-heap.js';
import { loadConfig } from '../cluster/config.js';
import { NodeRuntime } from '../cluster/runtime/node-runtime.js';
import { AdminServer } from '../admin/admin-server.js';
import { adminToken } from '../admin/admin-token.js';
import { exitAfterStop } from './exit-after-stop.js';
import { parseCommand, UsageError } from './usage.js';

const USAGE = `usage: tandem node --config FILE --node NAME

Runs node NAME of the cluster described in FILE (TANDEM_CONFIG may stand in for --config):
its interconnect with its partner, the filers it serves, and its admin API.

options:
  --config FILE   the cluster configuration (tandem init writes one)
  --node NAME     which node of the configuration this is
  -h, --help      this text`;

export async function nodeCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { config: { type: 'string' }, node: { type: 'string' } }, USAGE);
  if (parsed === undefined) return 0;
  const file = parsed.values.config ?? process.env.TANDEM_CONFIG;
  if (file === undefined) throw new UsageError(`node: --config is missing (or set TANDEM_CONFIG)\n\n${USAGE}`);
  const name = parsed.values.node;
  if (name === undefined) throw new UsageError(`node: --node is missing\n\n${USAGE}`);
  const config = await loadConfig(file);
  const log = createLogger(config.log.level);
  for (const warning of config.warnings) log.warn(warning);
  if (!serverHeapConfigured()) log.warn(SERVER_HEAP_WARNING);
  const node = config.nodeNamed(name);
  if (node === undefined) throw new UsageError(`node: the configuration has no node "${name}" (it has ${config.nodes.map((n) => n.name).join(', ')})`);
  const runtime = await NodeRuntime.start(config, name, log);
  const admin = new AdminServer({ host: node.admin.host, port: node.admin.port, token: adminToken(config.secret), service: runtime, log });
  try {
    await admin.start();
  } catch (error) {
    await runtime.stop();
    throw error;
  }
  process.stdout.write(`node ${name} running; admin API on http://${node.admin.host}:${node.admin.port}/v1/status\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await admin.stop();
  await runtime.stop();
  return exitAfterStop(log);
}
