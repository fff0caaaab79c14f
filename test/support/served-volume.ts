// The setup most integration tests share: a fresh volume in a scratch directory, served by a
// real `tandem serve` on loopback, with a connected test client and the export's root handle.

import path from 'node:path';
import { createVolumeWithCli, TandemProcess } from './processes.js';
import { NfsClient } from './rpc-client.js';
import { scratchDirectory } from './scratch.js';

export const ALL_LOOPBACK_RW = '127.0.0.0/8(rw,no_root_squash)';

export interface ServedVolume {
  readonly directory: string;
  readonly server: TandemProcess;
  readonly client: NfsClient;
  readonly root: Buffer;
  /** Closes the client, stops the server, removes the scratch directory. */
  stop(): Promise<void>;
}

export async function serveFreshVolume(name: string, clients = ALL_LOOPBACK_RW): Promise<ServedVolume> {
  const scratch = scratchDirectory(name);
  const directory = path.join(scratch.path, 'vol');
  await createVolumeWithCli(directory, name);
  const args = ['--volume', directory, '--listen', '127.0.0.1:0', '--clients', clients, '--log-level', 'warn'];
  const server = await TandemProcess.serve(args, 1);
  const client = await NfsClient.connect(server.port);
  const root = await client.mountRoot(new URL(server.urls[0]!).pathname);
  return {
    directory,
    server,
    client,
    root,
    async stop() {
      await client.close();
      await server.stop();
      scratch.remove();
    },
  };
}
