// One filer as one node hosts it: its mailbox, and its file server while this node serves it.
// Layer: cluster/runtime. Each method carries out one action of the core (docs/design/
// takeover.md) and returns what the core needs to continue; a failure throws, and the runtime
// reports it to the core as a failed action.

import type { Logger } from '../../platform/logger.js';
import { FileServer, type FilerHandoff } from '../../server/file-server.js';
import { nfsUrl } from '../../server/nfs-url.js';
import { exportPathOf, type FilerConfig } from '../config.js';
import { Mailbox, MailboxError } from '../mailbox.js';
import type { MailboxView } from '../core/types.js';

export class FilerHost {
  readonly config: FilerConfig;
  readonly #node: string;
  readonly #mailbox: Mailbox;
  readonly #log: Logger;
  #server: FileServer | undefined;

  private constructor(config: FilerConfig, node: string, mailbox: Mailbox, log: Logger) {
    this.config = config;
    this.#node = node;
    this.#mailbox = mailbox;
    this.#log = log.child({ filer: config.name });
  }

  static async open(config: FilerConfig, node: string, mailboxDirectory: string, log: Logger): Promise<FilerHost> {
    return new FilerHost(config, node, await Mailbox.open(mailboxDirectory, config.name), log);
  }

  get serving(): boolean {
    return this.#server !== undefined;
  }

  /** The claims and the state record, as the core reads them. */
  async inspect(): Promise<MailboxView> {
    const [claim, record] = await Promise.all([this.#mailbox.currentEpoch(), this.#mailbox.readState()]);
    const handoff = claim === undefined ? false : await this.#mailbox.hasHandoff(claim.epoch);
    return { epoch: claim?.epoch, owner: claim?.owner, state: record?.state, handoff };
  }

  /** Step 3: the gates drain; resolves with the calls still running at the deadline. */
  async drain(deadlineMs: number): Promise<{ inProgress: number }> {
    const server = this.#serverOrThrow();
    const { inProgress } = await server.drain(deadlineMs);
    return { inProgress };
  }

  /**
   * Step 4: hand-off written, volumes closed and addresses released (connections reset), and
   * only then the record `released`: once the partner can see it, nothing here serves.
   */
  async release(epoch: bigint): Promise<void> {
    const server = this.#serverOrThrow();
    await this.#mailbox.writeHandoff(epoch, server.handoff());
    this.#server = undefined;
    await server.stop({ reset: true });
    await this.#mailbox.writeState({ filer: this.config.name, epoch, owner: this.#node, state: 'released', updatedAtMs: Date.now() });
    this.#log.info({ epoch: String(epoch) }, 'filer released');
  }

  /** Step 5: an exclusive claim of `epoch`; a stale epoch counts as lost to the current owner. */
  async claim(epoch: bigint): Promise<{ won: boolean; holder: string }> {
    try {
      const outcome = await this.#mailbox.claim(epoch, this.#node);
      return outcome.won ? { won: true, holder: this.#node } : { won: false, holder: outcome.holder };
    } catch (error) {
      if (!(error instanceof MailboxError) || error.code !== 'stale-epoch') throw error;
      const current = await this.#mailbox.currentEpoch();
      return { won: false, holder: current?.owner ?? 'unknown' };
    }
  }

  /**
   * Steps 5 and 6: refuse if fenced, open the volumes with the hand-off of `handoffEpoch`,
   * serve on the filer's addresses, then record the state.
   */
  async serve(epoch: bigint, handoffEpoch: bigint | undefined, state: 'normal' | 'taken-over', log: Logger): Promise<void> {
    if (this.#server !== undefined) throw new Error(`already serving ${this.config.name}`);
    if (await this.#mailbox.isFenced(epoch)) throw new Error(`fenced: a claim above epoch ${epoch} exists`);
    const handoff = handoffEpoch === undefined ? undefined : ((await this.#mailbox.readHandoff(handoffEpoch)) as FilerHandoff | undefined);
    this.#server = await FileServer.start({
      exports: this.config.volumes,
      hosts: this.config.addresses,
      port: this.config.port,
      log,
      ...(handoff === undefined ? {} : { handoff }),
    });
    await this.#mailbox.writeState({ filer: this.config.name, epoch, owner: this.#node, state, updatedAtMs: Date.now() });
    this.#log.info({ epoch: String(epoch), state }, 'filer served');
  }

  /** Stops serving without a release (the node stops; the mailbox still names it owner). */
  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.stop({ reset: true });
  }

  urls(): string[] {
    return this.config.addresses.flatMap((address) =>
      this.config.volumes.map((volume) => nfsUrl(address, exportPathOf(volume), this.config.port)),
    );
  }

  #serverOrThrow(): FileServer {
    if (this.#server === undefined) throw new Error(`${this.config.name} is not served here`);
    return this.#server;
  }
}
