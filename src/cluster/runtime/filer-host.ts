// One filer as one node hosts it: its mailbox, its lease and its file server while this node
// serves it, and its lease observer while it does not. Layer: cluster/runtime. Each method
// carries out one action of the core (docs/design/takeover.md) and returns what the core needs to
// continue; a failure throws, and the runtime reports it to the core as a failed action.
//
// The lease (docs/design/fencing.md) is renewed in a worker thread from the moment the filer is
// claimed: nothing is served before it is valid, every admission and storage mutation checks it,
// and when it lapses the file server stops admitting at once, without waiting for the core; if
// calls are still running stopGraceMs later, the process exits (the self-fence).

import type { Logger } from '../../platform/logger.js';
import { FileServer, type FilerHandoff } from '../../server/file-server.js';
import { nfsUrl } from '../../server/nfs-url.js';
import { exportPathOf, type FilerConfig, type TimingConfig } from '../config.js';
import { LeaseObserver, readLease, type LeaseRecord } from '../lease.js';
import { Mailbox, MailboxError } from '../mailbox.js';
import type { LeaseView, MailboxView } from '../core/types.js';
import { LeaseThread } from './lease-thread.js';
import { monotonicClock, monotonicNowMs } from './monotonic-clock.js';
import { MIRROR_SETTLE_MS, MirrorSender, MirrorStore, type MirroredReply } from './reply-mirror.js';
import type { DuplicateRequestCache } from '../../rpc/duplicate-request-cache.js';
import type { TcpConnectionEndpoints } from '../../rpc/tcp-server.js';
import type { AddressBackend } from '../address/address-backend.js';


export interface FilerHostOptions {
  readonly config: FilerConfig;
  readonly node: string;
  /** The mailbox directory as this node reaches it. */
  readonly mailboxDirectory: string;
  readonly timing: TimingConfig;
  /** Makes the filer's addresses this host's before it listens on them, and gives them up after. */
  readonly addresses: AddressBackend;
  readonly log: Logger;
  /** This node's lease of the filer lapsed and it stopped serving (already done when called). */
  readonly onLeaseLost: (filer: string, epoch: bigint, reason: string) => void;
  /** The filer's storage keeps failing: ask the partner to take it over. */
  readonly onFault: (filer: string, reason: string) => void;
  /** Sends a batch of cached replies, packed (reply-mirror.ts), to the partner: resolves with the id of the store that kept it, if it did. */
  readonly mirror: (filer: string, epoch: bigint, packed: Buffer) => Promise<string | undefined>;
}

export class FilerHost {
  readonly config: FilerConfig;
  readonly #options: FilerHostOptions;
  readonly #node: string;
  readonly #mailbox: Mailbox;
  readonly #log: Logger;
  readonly #observer: LeaseObserver;
  #server: FileServer | undefined;
  #lease: LeaseThread | undefined;
  #mirrorSender: MirrorSender | undefined;
  /** A lease worker booted ahead, while the filer is not served here: serving need not wait for one. */
  #spare: LeaseThread | undefined;
  /** The partner's cached replies while it serves the filer. */
  readonly #mirrored = new MirrorStore();
  /** The partner's client connections while it serves the filer, as it last reported them. */
  #partnerConnections: { epoch: bigint; connections: readonly TcpConnectionEndpoints[] } | undefined;
  #epoch: bigint | undefined;
  /** Set by stop(): a serve still under way gives up instead of serving after the node stopped. */
  #closing = false;
  /** When the last claim began (monotonic): the first lease write must complete within leaseMs of it. */
  #claimBeganMs: number | undefined;

  private constructor(options: FilerHostOptions, mailbox: Mailbox) {
    this.config = options.config;
    this.#options = options;
    this.#node = options.node;
    this.#mailbox = mailbox;
    this.#log = options.log.child({ filer: options.config.name });
    this.#observer = new LeaseObserver({
      read: () => this.#leaseOrClaim(),
      leaseMs: options.timing.leaseMs,
      marginMs: options.timing.leaseMarginMs,
      clock: monotonicClock,
    });
  }

  static async open(options: FilerHostOptions): Promise<FilerHost> {
    const host = new FilerHost(options, await Mailbox.open(options.mailboxDirectory, options.config.name));
    host.#prepareSpare();
    return host;
  }

  #prepareSpare(): void {
    if (this.#closing || this.#spare !== undefined) return;
    const { timing } = this.#options;
    this.#spare = LeaseThread.prepare({
      folder: this.#mailbox.folder,
      filer: this.config.name,
      owner: this.#node,
      leaseMs: timing.leaseMs,
      renewMs: timing.leaseRenewMs,
      log: this.#log,
    });
  }

  get serving(): boolean {
    return this.#server !== undefined;
  }

  /** The epoch this node serves the filer at; undefined while it does not serve it. */
  get epoch(): bigint | undefined {
    return this.#server === undefined ? undefined : this.#epoch;
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
    const lease = this.#lease;
    // Drained, so no reply is cached any more: if every one reached the partner's mirror, the
    // hand-off names that store instead of carrying the whole cache (reply-mirror.ts).
    const mirroredStore = await this.#mirrorSender?.settle(MIRROR_SETTLE_MS);
    await this.#mailbox.writeHandoff(epoch, server.handoff(mirroredStore));
    this.#server = undefined;
    this.#lease = undefined;
    this.#endMirror();
    await server.stop({ reset: true });
    await this.#options.addresses.release(this.config.serviceAddresses);
    // Nothing is served here any more: say so in the lease, so nobody waits it out.
    this.#prepareSpare();
    await lease?.release();
    await this.#mailbox.writeState({ filer: this.config.name, epoch, owner: this.#node, state: 'released', updatedAtMs: Date.now() });
    this.#log.info({ epoch: String(epoch) }, 'filer released');
  }

  /** Step 5: an exclusive claim of `epoch`; a stale epoch counts as lost to the current owner. */
  async claim(epoch: bigint): Promise<{ won: boolean; holder: string }> {
    this.#claimBeganMs = monotonicNowMs();
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
    // The lease first: valid before anything is served, its first write due within leaseMs of
    // the claim (fencing.md: a partner times an unleased claim from when it first saw it).
    this.#prepareSpare();
    const lease = this.#spare!;
    this.#spare = undefined;
    // Meanwhile the addresses become this host's (checked, added, announced): nothing listens on
    // them before the lease is valid and the claim is found unfenced, and clients that come
    // early are refused and retry. Doing it now keeps it out of the clients' pause.
    const acquiring = this.#options.addresses.acquire(this.config.serviceAddresses);
    acquiring.catch(() => undefined);
    try {
      await lease.begin({
        epoch,
        ...(this.#claimBeganMs === undefined ? {} : { sinceMs: this.#claimBeganMs }),
        onExpired: (reason) => this.#fence(epoch, reason),
      });
    } catch (error) {
      await acquiring.catch(() => undefined);
      await this.#releaseAddresses('after a failed serve');
      this.#prepareSpare();
      throw error;
    }
    let server: FileServer | undefined;
    const sender = new MirrorSender((packed) => this.#options.mirror(this.config.name, epoch, packed));
    try {
      // Checked with the lease valid: a claim above ours made after this waited out our lease.
      if (await this.#mailbox.isFenced(epoch)) throw new Error(`fenced: a claim above epoch ${epoch} exists`);
      const { handoff, duplicateRequests } = await this.#restoreFor(epoch, handoffEpoch);
      await acquiring;
      await this.#resetStaleConnections(epoch, handoffEpoch);
      server = await FileServer.start({
        exports: this.config.volumes,
        hosts: this.config.addresses,
        port: this.config.port,
        log,
        mayServe: () => lease.isValid(),
        onReplyCached: (key, reply) => sender.add(key, reply),
        onStorageFault: (reason) => this.#options.onFault(this.config.name, reason),
        ...(handoff === undefined ? {} : { handoff }),
        ...(duplicateRequests === undefined ? {} : { duplicateRequests }),
      });
      await this.#mailbox.writeState({ filer: this.config.name, epoch, owner: this.#node, state, updatedAtMs: Date.now() });
      // Nothing runs between these checks and taking the server on below: a lapse before them is
      // caught here, a lapse after them reaches #fence.
      if (this.#closing) throw new Error(`node stopping: ${this.config.name} not served`);
      if (!lease.isValid()) throw new Error(`the lease of ${this.config.name} lapsed while serving started`);
    } catch (error) {
      // Not served here after all: release the lease so the partner need not wait it out.
      sender.stop();
      await server?.stop({ reset: true }).catch(() => undefined);
      await acquiring.catch(() => undefined);
      await this.#releaseAddresses('after a failed serve');
      await lease.release().catch((reason: unknown) => this.#log.warn({ err: String(reason) }, 'lease not released after a failed serve'));
      this.#prepareSpare();
      throw error;
    }
    this.#server = server;
    this.#lease = lease;
    this.#epoch = epoch;
    this.#mirrorSender = sender;
    this.#mirrored.clear();
    // The replies served with (handed off or taken over) go to the partner's new store as well,
    // in the background: it must hold every reply of this epoch for the next hand-off to name it.
    sender.resend([...server.cachedReplies()].map(([key, reply]) => ({ key, reply })));
    this.#partnerConnections = undefined;
    this.#log.info({ epoch: String(epoch), state, validUntilMs: lease.validUntilMs }, 'filer served');
  }

  /**
   * After a failure takeover (no hand-off), the clients still connected to the failed server are
   * made to reconnect at once. Only once the claim is known unfenced: these resets would
   * otherwise cut a rightful server's clients.
   */
  async #resetStaleConnections(epoch: bigint, handoffEpoch: bigint | undefined): Promise<void> {
    const stale = this.#partnerConnections;
    if (handoffEpoch === undefined && stale !== undefined && stale.epoch < epoch) {
      await this.#options.addresses.resetStale(this.config.serviceAddresses, stale.connections);
    }
  }

  /** Gives the addresses up; a failure is logged (the caller has nothing better to do with it). */
  async #releaseAddresses(when: string): Promise<void> {
    await this.#options.addresses.release(this.config.serviceAddresses).catch((error: unknown) =>
      this.#log.error({ err: String(error) }, `addresses not released ${when}`),
    );
  }

  /** The clients' connections while this node serves the filer (the partner keeps them). */
  connections(): TcpConnectionEndpoints[] | undefined {
    return this.#server?.connections();
  }

  /** The partner's client connections to the filer at `epoch`, kept while it serves it. */
  acceptConnections(epoch: bigint, connections: readonly TcpConnectionEndpoints[]): void {
    if (this.#server === undefined) this.#partnerConnections = { epoch, connections };
  }

  /**
   * The node stops: calls in progress drain (up to the drain deadline), the hand-off is written,
   * the server stops, and the lease is released with the state record `released`, so the partner
   * may take the filer over at once instead of waiting the lease out.
   */
  async stop(): Promise<void> {
    this.#closing = true;
    await this.#spare?.stop();
    this.#spare = undefined;
    const server = this.#server;
    const lease = this.#lease;
    const epoch = this.#epoch;
    this.#server = undefined;
    this.#lease = undefined;
    this.#endMirror();
    if (server === undefined || lease === undefined || epoch === undefined) return;
    await server.drain(this.#options.timing.drainDeadlineMs);
    const handoff = server.handoff();
    await server.stop({ reset: true }).catch((error: unknown) => this.#log.warn({ err: String(error) }, 'volumes not closed cleanly'));
    await this.#releaseAddresses('at stop');
    try {
      await this.#mailbox.writeHandoff(epoch, handoff);
      await lease.release();
      await this.#mailbox.writeState({ filer: this.config.name, epoch, owner: this.#node, state: 'released', updatedAtMs: Date.now() });
      this.#log.info({ epoch: String(epoch) }, 'filer released at stop');
    } catch (error) {
      await lease.stop();
      this.#log.warn({ err: String(error) }, 'filer not released at stop: the partner waits out the lease');
    }
  }

  /**
   * What to serve at `epoch` with: the hand-off of `handoffEpoch` if one was written for us, and
   * the mirror store it names; without a hand-off (a failure takeover), the replies the previous
   * server mirrored to us.
   */
  async #restoreFor(epoch: bigint, handoffEpoch: bigint | undefined): Promise<{ handoff?: FilerHandoff; duplicateRequests?: DuplicateRequestCache }> {
    if (handoffEpoch !== undefined) {
      const handoff = (await this.#mailbox.readHandoff(handoffEpoch)) as FilerHandoff | undefined;
      if (handoff?.mirroredStore === undefined) return handoff === undefined ? {} : { handoff };
      const duplicateRequests = this.#mirrored.cacheFor(epoch, handoff.mirroredStore);
      if (duplicateRequests === undefined) {
        this.#log.warn({ epoch: String(epoch), store: handoff.mirroredStore }, 'the hand-off names mirrored replies this node no longer holds: a retransmitted call may run again');
        return { handoff };
      }
      return { handoff, duplicateRequests };
    }
    const duplicateRequests = this.#mirrored.cacheFor(epoch);
    if (duplicateRequests === undefined || duplicateRequests.size === 0) return {};
    this.#log.info({ epoch: String(epoch), replies: duplicateRequests.size }, 'restoring the replies the failed server mirrored');
    return { duplicateRequests };
  }

  /** Replies the partner cached while serving the filer at `epoch`: the id of the store that kept them, if one did. */
  acceptMirror(epoch: bigint, replies: readonly MirroredReply[]): string | undefined {
    return this.#server === undefined ? this.#mirrored.accept(epoch, replies) : undefined;
  }

  #endMirror(): void {
    this.#mirrorSender?.flush();
    this.#mirrorSender = undefined;
  }

  /** A reading of the lease, for the core, while this node does not serve the filer. */
  async observeLease(): Promise<LeaseView> {
    const observed = await this.#observer.poll();
    const record = 'record' in observed ? observed.record : undefined;
    return {
      state: observed.state,
      ...(record === undefined ? {} : { owner: record.owner, epoch: record.epoch }),
      unchangedForMs: observed.unchangedForMs,
      ...(observed.state === 'unreadable' ? { error: String(observed.error instanceof Error ? observed.error.message : observed.error) } : {}),
    };
  }

  /**
   * The lease as the observer times it: the record, or, when a newer claim has no lease yet, the
   * claim standing for its holder's first renewal (sequence 0), timed from its first sighting.
   */
  async #leaseOrClaim(): Promise<LeaseRecord | undefined> {
    const [claim, lease] = await Promise.all([this.#mailbox.currentEpoch(), readLease(this.#mailbox.folder, this.config.name)]);
    if (claim === undefined || (lease !== undefined && lease.epoch >= claim.epoch)) return lease;
    return { filer: this.config.name, owner: claim.owner, epoch: claim.epoch, sequence: 0n, leaseMs: this.#options.timing.leaseMs };
  }

  /** The lease lapsed: stop admitting now, stop the server, and exit if calls outlive the grace. */
  #fence(epoch: bigint, reason: string): void {
    const server = this.#server;
    if (server === undefined || this.#epoch !== epoch) return;
    const validUntilMs = this.#lease?.validUntilMs ?? monotonicNowMs();
    server.stopAdmitting();
    this.#server = undefined;
    this.#lease = undefined;
    this.#endMirror();
    this.#prepareSpare();
    this.#log.error({ epoch: String(epoch), reason, inProgress: server.inProgress }, 'lease lost: stopped serving');
    // The grace counts from validUntil (this report may come late), and the exit is SIGKILL:
    // process.exit would wait for a lease worker stuck in a write.
    const graceMs = this.#options.timing.stopGraceMs;
    const exit = setTimeout(() => {
      if (server.inProgress === 0) return;
      this.#log.fatal({ epoch: String(epoch), inProgress: server.inProgress, graceMs }, 'calls still running after the lease lapsed: killing the process (self-fence)');
      process.kill(process.pid, 'SIGKILL');
    }, Math.max(0, validUntilMs + graceMs - monotonicNowMs()));
    server
      .stop({ reset: true })
      .catch((error: unknown) => this.#log.warn({ err: String(error) }, 'fenced volumes closed with an error'))
      .finally(() => clearTimeout(exit))
      .then(() => this.#releaseAddresses('after the lease lapsed'));
    this.#options.onLeaseLost(this.config.name, epoch, reason);
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
