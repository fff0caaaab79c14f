// `tandem volume create DIR [--name NAME]`. Layer: cli.

import { createVolume } from '../storage/volume.js';
import { parseCommand, UsageError } from './usage.js';

const USAGE = `usage: tandem volume create DIR [--name NAME]

Creates a volume: a self-contained directory holding a file system (identity, metadata,
file contents, handle key). It is exported at /NAME; NAME defaults to DIR's last component.

options:
  --name NAME   the volume's name
  -h, --help    this text`;

export async function volumeCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === '--help' || action === '-h') {
    process.stdout.write(USAGE + '\n');
    return 0;
  }
  if (action !== 'create') throw new UsageError(`volume: unknown action "${action ?? ''}"\n\n${USAGE}`);
  const parsed = parseCommand(rest, { name: { type: 'string' } }, USAGE, 1);
  if (parsed === undefined) return 0;
  const directory = parsed.positionals[0];
  if (directory === undefined) throw new UsageError(`volume create: DIR is missing\n\n${USAGE}`);
  const identity = await createVolume(directory, parsed.values.name === undefined ? {} : { name: parsed.values.name });
  process.stdout.write(`created volume ${identity.name} (id ${identity.id.toString('hex')}, fsid ${identity.fsid}) in ${directory}\n`);
  return 0;
}
