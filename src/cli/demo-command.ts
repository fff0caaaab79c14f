// `tandem demo [DIR]`: the quick start. Creates a volume in DIR (default ./tandem-demo) unless
// one is there, and serves it on loopback until Ctrl-C. Layer: cli.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { createLogger } from '../platform/logger.js';
import { parseClientRules } from '../exports/client-rules.js';
import { FileServer } from '../server/file-server.js';
import { createVolume } from '../storage/volume.js';
import { parseCommand } from './usage.js';
import { serveUntilSignal } from './serve-command.js';

export const DEMO_HOST = '127.0.0.1';
/** An unprivileged port away from the well-known NFS ports (2049, 20048, 111). */
export const DEMO_PORT = 20490;

const USAGE = `usage: tandem demo [DIR] [--port PORT]

Creates a demo volume in DIR (default ./tandem-demo) if there is none, and serves it on
${DEMO_HOST} until Ctrl-C, printing the URL to use with nfs-ls, nfs-cp or nfs-cat.

options:
  --port PORT   the port (default ${DEMO_PORT})
  -h, --help    this text`;

export async function demoCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { port: { type: 'string' } }, USAGE, 1);
  if (parsed === undefined) return 0;
  const root = path.resolve(parsed.positionals[0] ?? 'tandem-demo');
  const directory = path.join(root, 'demo');
  if (!existsSync(directory)) await createVolume(directory, { name: 'demo' });
  const port = parsed.values.port === undefined ? DEMO_PORT : Number(parsed.values.port);
  const server = await FileServer.start({
    exports: [{ directory, rules: parseClientRules('127.0.0.0/8(rw,no_root_squash)') }],
    hosts: [DEMO_HOST],
    port,
    log: createLogger('info'),
  });
  process.stdout.write(`Tandem demo: volume in ${directory}\ntry:  nfs-ls '${server.urls()[0]}'\n`);
  return serveUntilSignal(server);
}
