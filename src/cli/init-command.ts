// `tandem init DIR [--nodes A,B]`: writes a ready-to-run loopback pair into DIR (configuration,
// secret, mailbox, one volume per filer) and says how to start it. Layer: cli, thin over
// cluster/init.ts.

import path from 'node:path';
import { exportPathOf, formatEndpoint, loadConfig } from '../cluster/config.js';
import { nfsUrl } from '../server/nfs-url.js';
import { CONFIG_FILE_NAME, initCluster, InitError } from '../cluster/init.js';
import { parseCommand, UsageError } from './usage.js';

const USAGE = `usage: tandem init DIR [--nodes A,B]

Writes a two-node cluster that runs on this machine's loopback addresses into DIR:
  DIR/${CONFIG_FILE_NAME}    the configuration, commented section by section
  DIR/secret         a generated shared secret (mode 0600)
  DIR/mailbox/       ownership and status records of the filers
  DIR/volumes/A, B   one volume per filer, exported at /A and /B
Filer A is served by node A on 127.0.0.11, filer B by node B on 127.0.0.12, each on port
20490. Refuses if DIR/${CONFIG_FILE_NAME} exists. Then start each node in its own terminal:
  tandem node --config DIR/${CONFIG_FILE_NAME} --node A

options:
  --nodes A,B   the two node names (default a,b); each is home to the filer of its name
  -h, --help    this text`;

export async function initCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, { nodes: { type: 'string' } }, USAGE, 1);
  if (parsed === undefined) return 0;
  const directory = parsed.positionals[0];
  if (directory === undefined) throw new UsageError(`init: DIR is missing\n\n${USAGE}`);
  const nodes = parsed.values.nodes === undefined ? undefined : parseNodes(parsed.values.nodes);
  let configFile: string;
  try {
    ({ configFile } = await initCluster(directory, nodes === undefined ? {} : { nodes }));
  } catch (error) {
    if (error instanceof InitError && error.code === 'invalid-names') throw new UsageError(`init: --nodes: ${error.message}`);
    throw error;
  }
  const config = await loadConfig(configFile);
  const configShown = path.join(directory, CONFIG_FILE_NAME);
  const lines = [
    `created cluster ${config.name} in ${directory}:`,
    `  configuration  ${configShown}`,
    `  secret         ${shown(config.secretFile ?? '(inline)')} (mode 0600)`,
    `  mailbox        ${shown(config.mailbox)}`,
    ...config.nodes.map((node) => `  ${`node ${node.name}`.padEnd(15)}interconnect ${formatEndpoint(node.interconnect)}, admin ${formatEndpoint(node.admin)}, partner ${node.partner}`),
    ...config.filers.flatMap((filer) =>
      filer.volumes.map((volume) => {
        const url = nfsUrl(filer.addresses[0]!, exportPathOf(volume), filer.port);
        return `  ${`filer ${filer.name}`.padEnd(15)}home ${filer.home}, volume ${shown(volume.directory)}, ${url}`;
      }),
    ),
    '',
    'next: start each node in its own terminal:',
    ...config.nodes.map((node) => `  tandem node --config ${configShown} --node ${node.name}`),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

/** `file` relative to the working directory when it lies below it, else absolute. */
function shown(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') || path.isAbsolute(relative) ? file : relative;
}

function parseNodes(value: string): [string, string] {
  const names = value.split(',');
  if (names.length !== 2) throw new UsageError(`init: --nodes "${value}": expected two names separated by a comma, such as a,b`);
  return [names[0]!, names[1]!];
}
