// Command-line parsing shared by the subcommands: node:util parseArgs with errors that say
// which option is wrong, and a --help flag everywhere. Layer: cli.

import { parseArgs, type ParseArgsConfig } from 'node:util';

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Parses `args`; on -h/--help prints `usage` and returns undefined. */
export function parseCommand<O extends Options>(args: string[], options: O, usage: string, positionals = 0) {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(usage + '\n');
    return undefined;
  }
  try {
    const parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
    if (parsed.positionals.length > positionals) throw new UsageError(`unexpected argument "${parsed.positionals[positionals]}"`);
    return parsed;
  } catch (error) {
    throw new UsageError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

/** HOST:PORT, [IPv6]:PORT; the port 0 to 65535. */
export function parseListen(value: string): { host: string; port: number } {
  const found = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(value);
  const port = Number(found?.[3]);
  if (found === null || port > 65535) throw new UsageError(`--listen "${value}": expected HOST:PORT with a port from 0 to 65535`);
  return { host: found[1] ?? found[2]!, port };
}
