// `tandem serve`: a standalone file server in the foreground until SIGINT or SIGTERM, which
// shut it down cleanly (calls in progress are answered, volumes closed). Layer: cli.

import { createLogger, isLogLevel, type Logger } from '../platform/logger.js';
import { SERVER_HEAP_WARNING, serverHeapConfigured } from '../platform/server-heap.js';
import { CLIENTS_DEFAULT, parseClientRules, ExportRuleError } from '../exports/client-rules.js';
import { FileServer, type ExportConfig } from '../server/file-server.js';
import { exitAfterStop } from './exit-after-stop.js';
import { parseCommand, parseListen, UsageError } from './usage.js';


const USAGE = `usage: tandem serve --volume DIR[=PATH] [--volume ...] --listen HOST:PORT [options]

Serves volumes over NFSv3. Portmapper, MOUNT and NFS answer on the one port, so a
libnfs client needs only nfs://HOST/PATH?version=3&nfsport=PORT&mountport=PORT.
Prints each export's URL once it is ready.

options:
  --volume DIR[=PATH]  a volume to export, at PATH (default /<volume name>); repeatable
  --listen HOST:PORT   address and port to serve on (port 0: any free port)
  --clients RULES      who may mount, as in exports(5): space-separated CLIENT(options)
                       with CLIENT one of *, an address or a CIDR network, and options
                       rw|ro, root_squash|no_root_squash|all_squash, anonuid=N, anongid=N
                       (default "${CLIENTS_DEFAULT}"; the first matching rule applies)
  --log-level LEVEL    fatal, error, warn, info (default), debug, trace or silent
  -h, --help           this text`;

export async function serveCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(
    args,
    {
      volume: { type: 'string', multiple: true },
      listen: { type: 'string' },
      clients: { type: 'string' },
      'log-level': { type: 'string' },
    },
    USAGE,
  );
  if (parsed === undefined) return 0;
  const { values } = parsed;
  if (values.volume === undefined || values.volume.length === 0) throw new UsageError(`serve: --volume is missing\n\n${USAGE}`);
  if (values.listen === undefined) throw new UsageError(`serve: --listen is missing\n\n${USAGE}`);
  const level = values['log-level'] ?? 'info';
  if (!isLogLevel(level)) throw new UsageError(`serve: --log-level "${level}" is not a level`);
  let rules;
  try {
    rules = parseClientRules(values.clients ?? CLIENTS_DEFAULT);
  } catch (error) {
    if (error instanceof ExportRuleError) throw new UsageError(`serve: --clients: ${error.message}`);
    throw error;
  }
  const exports: ExportConfig[] = values.volume.map((spec) => {
    const at = spec.indexOf('=');
    return at < 0 ? { directory: spec, rules } : { directory: spec.slice(0, at), path: spec.slice(at + 1), rules };
  });
  const { host, port } = parseListen(values.listen);
  const log = createLogger(level);
  if (!serverHeapConfigured()) log.warn(SERVER_HEAP_WARNING);
  return serveUntilSignal(await FileServer.start({ exports, hosts: [host], port, log }), log);
}

/** Prints the URLs, then runs until SIGINT/SIGTERM, stops cleanly and ends the process. */
export async function serveUntilSignal(server: FileServer, log: Logger): Promise<number> {
  for (const url of server.urls()) process.stdout.write(`${url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.stop();
  return exitAfterStop(log);
}
