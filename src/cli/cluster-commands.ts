// The operator commands: `tandem status`, `tandem events`, `tandem takeover FILER` and
// `tandem giveback FILER`. Layer: cli, thin over the admin API (admin/admin-client.ts): each
// reads the cluster configuration for the nodes' admin endpoints and the secret the admin token
// derives from, asks the nodes in order until one answers, and prints the report for a person
// (status-format.ts) or, with --json, exactly as the API returned it.
//
// Exit codes: 0 success; 1 refused or failed (the reason is printed); 2 usage error; 3 no node
// answered.

import { AdminClient, AdminError } from '../admin/admin-client.js';
import { adminToken } from '../admin/admin-token.js';
import type { CommandReport, OperationKind } from '../admin/cluster-service.js';
import { loadConfig, type ClusterConfig } from '../cluster/config.js';
import { formatEventLine, formatOutcome, formatStatus } from './status-format.js';
import { parseCommand, UsageError } from './usage.js';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

/** The environment variable naming the configuration when --config is absent. */
export const CONFIG_ENV = 'TANDEM_CONFIG';
/** How long one node has to answer status and events before the next is asked. */
export const REPORT_TIMEOUT_MS = 5_000;
/** What a takeover or giveback may take beyond the configured operation deadline. */
export const COMMAND_TIMEOUT_MARGIN_MS = 5_000;

const COMMON_OPTIONS = `options:
  --config FILE   the cluster configuration (default: $${CONFIG_ENV})
  --node NAME     ask this node first (default: every node in configuration order)
  --json          print the report as JSON, exactly as the admin API returns it
  -h, --help      this text

Exit codes: 0 success, 1 refused or failed, 2 usage error, 3 no node answered.`;

const STATUS_USAGE = `usage: tandem status [--config FILE] [--node NAME] [--json]

Shows every node (up, interconnect, last heard) and filer (home, served by, state, epoch,
phase, NFS URLs), the operation running if any, and the last takeover and giveback with the
time each phase took, as the first node that answers sees them.

${COMMON_OPTIONS}`;

const EVENTS_USAGE = `usage: tandem events [--config FILE] [--node NAME] [--json]

Lists the takeovers, givebacks and other events the answering node recorded, oldest first,
one per line with the time each phase took.

${COMMON_OPTIONS}`;

const operationUsage = (kind: OperationKind) => `usage: tandem ${kind} FILER${kind === 'takeover' ? ' [--force]' : ''} [--config FILE] [--node NAME] [--json]

${kind === 'takeover'
    ? `Moves FILER to its home node's partner: the home node finishes the requests it has, stops,
and releases the filer; the partner claims the next epoch and serves FILER on its addresses.
With --force, for a node that does not answer: the partner takes FILER over without it, which
is allowed only once the mailbox shows the node's lease of FILER has expired (or was released);
otherwise the takeover is refused with the reason.`
    : `Returns FILER from the partner to its home node, which must be up and waiting for it.
Also resumes automatic giveback for FILER if its ping-pong guard stopped it.`}
Any node may be asked; it forwards the request to the node that carries it out. Prints the
outcome with the time each phase took; a refusal prints the reason and exits 1.

${COMMON_OPTIONS}`;

const OPTIONS = {
  config: { type: 'string' },
  node: { type: 'string' },
  json: { type: 'boolean' },
} as const;

const TAKEOVER_OPTIONS = { ...OPTIONS, force: { type: 'boolean' } } as const;

type Values = { config?: string | undefined; node?: string | undefined; json?: boolean | undefined; force?: boolean | undefined };

export async function statusCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, OPTIONS, STATUS_USAGE);
  if (parsed === undefined) return EXIT_OK;
  const { client } = await connect('status', parsed.values, STATUS_USAGE, () => REPORT_TIMEOUT_MS);
  return answered(async () => {
    const report = await client.status();
    print(parsed.values.json === true ? json(report) : formatStatus(report));
    return EXIT_OK;
  });
}

export async function eventsCommand(args: string[]): Promise<number> {
  const parsed = parseCommand(args, OPTIONS, EVENTS_USAGE);
  if (parsed === undefined) return EXIT_OK;
  const { client } = await connect('events', parsed.values, EVENTS_USAGE, () => REPORT_TIMEOUT_MS);
  return answered(async () => {
    const events = await client.events();
    if (parsed.values.json === true) print(json({ events }));
    else print(events.length === 0 ? 'no events recorded' : events.map(formatEventLine).join('\n'));
    return EXIT_OK;
  });
}

export const takeoverCommand = (args: string[]): Promise<number> => operationCommand('takeover', args);
export const givebackCommand = (args: string[]): Promise<number> => operationCommand('giveback', args);

async function operationCommand(kind: OperationKind, args: string[]): Promise<number> {
  const usage = operationUsage(kind);
  const parsed = parseCommand(args, kind === 'takeover' ? TAKEOVER_OPTIONS : OPTIONS, usage, 1);
  if (parsed === undefined) return EXIT_OK;
  const values: Values = parsed.values;
  const filer = parsed.positionals[0];
  if (filer === undefined) throw new UsageError(`${kind}: FILER is missing\n\n${usage}`);
  // The node answers when the operation has ended, which the operation deadline bounds.
  const { client } = await connect(kind, parsed.values, usage, (config) => config.timing.operationDeadlineMs + COMMAND_TIMEOUT_MARGIN_MS);
  return answered(async () => {
    const report = await client.command(kind, filer, values.force === true ? { force: true } : {});
    if (parsed.values.json === true) print(json(report));
    else printOutcome(kind, filer, report);
    return report.ok && report.event.outcome === 'completed' ? EXIT_OK : EXIT_FAILED;
  });
}

function printOutcome(kind: OperationKind, filer: string, report: CommandReport): void {
  if (!report.ok) {
    process.stderr.write(`tandem: ${kind} ${filer} refused: ${report.reason}\n`);
    return;
  }
  const epoch = report.event.epoch === null ? '' : `, epoch ${report.event.epoch}`;
  print(`${formatOutcome(report.event)}${epoch}`);
}

/** The configuration and a client asking --node first, then every node in configuration order. */
async function connect(command: string, values: Values, usage: string, timeoutMs: (config: ClusterConfig) => number) {
  const file = values.config ?? process.env[CONFIG_ENV];
  if (file === undefined || file === '') {
    throw new UsageError(`${command}: no configuration: give --config FILE or set ${CONFIG_ENV}\n\n${usage}`);
  }
  const config = await loadConfig(file);
  const first = values.node === undefined ? undefined : config.nodeNamed(values.node);
  if (values.node !== undefined && first === undefined) {
    throw new UsageError(`${command}: --node ${JSON.stringify(values.node)}: no such node in ${file} (nodes: ${config.nodes.map((node) => node.name).join(', ')})`);
  }
  const nodes = first === undefined ? config.nodes : [first, ...config.nodes.filter((node) => node !== first)];
  const client = new AdminClient({ endpoints: nodes.map((node) => node.admin), token: adminToken(config.secret), timeoutMs: timeoutMs(config) });
  return { config, client };
}

/** Runs `work`; an AdminError becomes its message and exit code 3 (nobody answered) or 1. */
async function answered(work: () => Promise<number>): Promise<number> {
  try {
    return await work();
  } catch (error) {
    if (!(error instanceof AdminError)) throw error;
    process.stderr.write(`tandem: ${error.message}\n`);
    return error.code === 'unreachable' ? EXIT_UNREACHABLE : EXIT_FAILED;
  }
}

function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

function print(text: string): void {
  process.stdout.write(`${text}\n`);
}
