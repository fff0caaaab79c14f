// The vocabulary of the cluster core (docs/design/takeover.md): what goes in (inputs), what
// comes out (actions), the messages partners exchange, and what an operation records. Layer:
// cluster/core, which does no I/O and reads no clock: the runtime turns inputs into calls of
// `NodeCore.handle` and carries out the actions it returns, reporting each completion back as
// a `done` input. Epochs are bigints here; the runtime encodes them for the wire.

/** What an operator asks for. */
export type OperationKind = 'takeover' | 'giveback';

/** Messages between the two cores of a pair, carried by the interconnect. */
export type PeerMessage =
  /** Acquirer to server: give up `filer`, which you serve at `epoch`. */
  | {
      readonly type: 'release-request';
      readonly op: string;
      readonly kind: OperationKind;
      readonly filer: string;
      readonly epoch: bigint;
      /** What started the operation on the acquirer (absent from older nodes: 'operator'). */
      readonly cause?: OperationCause;
    }
  | { readonly type: 'release-refused'; readonly op: string; readonly filer: string; readonly reason: string }
  /** Server to acquirer: the request is accepted; the drain begins. */
  | { readonly type: 'release-accepted'; readonly op: string; readonly filer: string }
  /** Server to acquirer: the filer is released at `epoch`; its hand-off is in the mailbox. */
  | {
      readonly type: 'released';
      readonly op: string;
      readonly filer: string;
      readonly epoch: bigint;
      readonly drainMs: number;
      readonly releaseMs: number;
      /** Calls still running when the drain deadline passed (0: drained). */
      readonly undrained: number;
    }
  /** Acquirer to the old server: the filer is served again, at `epoch`; the operation's timings. */
  | { readonly type: 'acquired'; readonly op: string; readonly filer: string; readonly epoch: bigint; readonly phases: PhaseTimings }
  /**
   * Negotiated takeover (US 6,920,580): the node serving `filer` at `epoch` found a fault it
   * cannot recover from and asks its partner to take the filer over (a planned takeover).
   */
  | { readonly type: 'help'; readonly filer: string; readonly epoch: bigint; readonly reason: string };

/**
 * One reading of a filer's lease by a node that does not serve it (the runtime's LeaseObserver,
 * docs/design/fencing.md, "The partner's side"). fresh: renewed within the wait; expired: not
 * renewed for leaseMs × (1 + ρ) + marginMs on the reader's clock, so its holder no longer serves;
 * released: its holder stopped serving and says so; absent: the filer was never claimed;
 * unreadable: nothing is known (never a reason to claim). A claim whose holder has not written a
 * lease yet reads as that holder's lease, timed from the first reading that saw the claim.
 */
export interface LeaseView {
  readonly state: 'fresh' | 'expired' | 'released' | 'absent' | 'unreadable';
  readonly owner?: string;
  readonly epoch?: bigint;
  /** How long the reading has stayed the same, on the reader's clock. */
  readonly unchangedForMs: number;
  /** Why it could not be read ('unreadable'). */
  readonly error?: string;
}

/** What started an operation: an operator, a failed partner, a fault the partner reported, or the automatic giveback. */
export type OperationCause = 'operator' | 'failure' | 'force' | 'fault' | 'auto';

/** What the mailbox says of a filer (the runtime reads it for `inspect`). */
export interface MailboxView {
  /** The highest claim, if any. */
  readonly epoch: bigint | undefined;
  readonly owner: string | undefined;
  /** The state record. */
  readonly state: 'normal' | 'taken-over' | 'released' | 'giveback' | undefined;
  /** True when a hand-off for `epoch` is there. */
  readonly handoff: boolean;
}

export type Input =
  | { readonly type: 'tick'; readonly nowMs: number }
  | { readonly type: 'peer-up'; readonly nowMs: number }
  | { readonly type: 'peer-down'; readonly nowMs: number }
  | { readonly type: 'message'; readonly nowMs: number; readonly message: PeerMessage }
  | { readonly type: 'command'; readonly nowMs: number; readonly id: string; readonly kind: OperationKind; readonly filer: string; readonly force?: boolean }
  | { readonly type: 'done'; readonly nowMs: number; readonly action: number; readonly result: ActionResult }
  /** A lease reading of a filer this node does not serve. */
  | { readonly type: 'lease'; readonly nowMs: number; readonly filer: string; readonly lease: LeaseView }
  /**
   * This node's own lease of `filer` lapsed (or its keeper died): the runtime has already stopped
   * serving it (the self-fence does not wait for the core).
   */
  | { readonly type: 'lease-lost'; readonly nowMs: number; readonly filer: string; readonly epoch: bigint; readonly reason: string }
  /** A fault this node cannot recover from: of one filer it serves, or (filer undefined) of the node. */
  | { readonly type: 'fault'; readonly nowMs: number; readonly filer: string | undefined; readonly reason: string }
  /** The node's health check passes again. */
  | { readonly type: 'healthy'; readonly nowMs: number };

/** What an action that took time came to. */
export type ActionResult =
  | {
      readonly ok: true;
      readonly claim?: { readonly won: boolean; readonly holder: string };
      readonly mailbox?: MailboxView;
      readonly drained?: { readonly inProgress: number };
      /** The probe's finding: gone when every endpoint refused connections. */
      readonly probe?: { readonly gone: boolean; readonly detail: string };
    }
  | { readonly ok: false; readonly error: string };

/** What the core asks the runtime to do. Actions with an `id` report back with `done`. */
export type Action =
  | { readonly type: 'send'; readonly message: PeerMessage }
  /** Read the filer's mailbox (claims and state record). */
  | { readonly type: 'inspect'; readonly id: number; readonly filer: string }
  /** Takeover step 3: the gates drain, with a deadline. */
  | { readonly type: 'drain'; readonly id: number; readonly filer: string; readonly deadlineMs: number }
  /**
   * Step 4: gates stopped, hand-off written for `epoch`, volumes closed, state record
   * `released`, addresses released (connections reset).
   */
  | { readonly type: 'release'; readonly id: number; readonly filer: string; readonly epoch: bigint }
  /** Step 5: claim `epoch` exclusively in the mailbox. */
  | { readonly type: 'claim'; readonly id: number; readonly filer: string; readonly epoch: bigint }
  /**
   * Steps 5 and 6: open the volumes, restore the hand-off of `handoffEpoch` (if any), record
   * `state`, activate the addresses and serve at `epoch`.
   */
  | {
      readonly type: 'serve';
      readonly id: number;
      readonly filer: string;
      readonly epoch: bigint;
      readonly handoffEpoch: bigint | undefined;
      readonly state: 'normal' | 'taken-over';
    }
  /**
   * The interconnect session ended: is the partner's process gone (every endpoint of the
   * partner and of `filer`'s addresses refuses connections) or only silent (fencing.md)?
   */
  | { readonly type: 'probe'; readonly id: number; readonly filer: string }
  /** Answer an operator's command. */
  | { readonly type: 'reply'; readonly command: string; readonly result: CommandResult }
  | { readonly type: 'record'; readonly event: ClusterEvent };

export type CommandResult =
  | { readonly ok: true; readonly event: ClusterEvent }
  /** This node serves the filer: the command belongs to the partner. */
  | { readonly ok: false; readonly forward: true }
  | { readonly ok: false; readonly forward?: false; readonly reason: string };

/** Durations of the phases of one operation, in milliseconds. */
export interface PhaseTimings {
  /** Failure takeover: from the partner's interconnect going down to the takeover starting. */
  detect?: number;
  check?: number;
  negotiate?: number;
  drain?: number;
  release?: number;
  claim?: number;
  serve?: number;
  total?: number;
}

export interface ClusterEvent {
  readonly atMs: number;
  readonly node: string;
  readonly filer: string;
  /**
   * takeover, giveback, start (serving at start-up), rollback; fence: this node's lease lapsed
   * and it stopped serving; fault: this node asked its partner to take over.
   */
  readonly kind: OperationKind | 'start' | 'rollback' | 'fence' | 'fault';
  /** For takeover and giveback: what started it. */
  readonly cause?: OperationCause;
  readonly outcome: 'completed' | 'failed' | 'rolled-back';
  readonly epoch?: bigint;
  readonly phases?: PhaseTimings;
  readonly detail?: string;
}
