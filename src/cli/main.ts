#!/usr/bin/env -S node --initial-old-space-size=64 --max-semi-space-size=4 --v8-pool-size=1
// The `tandem` command: subcommands, each with --help. Layer: cli (thin over the layers below).

import { volumeCommand } from './volume-command.js';
import { serveCommand } from './serve-command.js';
import { demoCommand } from './demo-command.js';
import { initCommand } from './init-command.js';
import { nodeCommand } from './node-command.js';
import { eventsCommand, givebackCommand, statusCommand, takeoverCommand } from './cluster-commands.js';
import { UsageError } from './usage.js';

const USAGE = `tandem: a high-availability NFSv3 file server

usage: tandem <command> [options]

commands:
  volume create DIR [--name NAME]   create a volume in DIR
  serve --volume DIR ... --listen HOST:PORT [export options]
                                    serve volumes over NFSv3 (portmap, MOUNT and NFS on one port)
  demo [DIR]                        run a filer pair on loopback (DIR default ./tandem-demo; what npm start runs)
  init DIR [--nodes A,B]            write a two-node loopback cluster (configuration, secret, volumes) into DIR
  node --config FILE --node NAME    run one node of a filer pair in the foreground
  status [--config FILE] [--json]   show the cluster's nodes and filers, and the last takeover and giveback
  takeover FILER [--config FILE]    move FILER to its home node's partner
  giveback FILER [--config FILE]    return FILER to its home node
  events [--config FILE] [--json]   list the takeovers and givebacks recorded, with phase timings

Run 'tandem <command> --help' for a command's options.`;

const COMMANDS: Record<string, (args: string[]) => Promise<number>> = {
  volume: volumeCommand,
  serve: serveCommand,
  demo: demoCommand,
  init: initCommand,
  node: nodeCommand,
  status: statusCommand,
  takeover: takeoverCommand,
  giveback: givebackCommand,
  events: eventsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(USAGE + '\n');
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (command === undefined) {
    process.stderr.write(`tandem: unknown command "${name}"\n\n${USAGE}\n`);
    return 2;
  }
  return command(rest);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    if (error instanceof UsageError) {
      process.stderr.write(`tandem: ${error.message}\n`);
      process.exitCode = 2;
      return;
    }
    process.stderr.write(`tandem: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
