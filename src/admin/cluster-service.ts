// The admin API's contract: the JSON an operator (and `tandem status --json`) sees, and the one
// service object the HTTP layer is thin over. Layer: admin. The cluster runtime implements
// `ClusterService` (structurally: it does not import this layer); epochs travel as decimal
// strings, since JSON has no 64-bit integers.

export type OperationKind = 'takeover' | 'giveback';

/** What started a takeover or giveback (docs/design/fencing.md). */
export type OperationCause = 'operator' | 'failure' | 'force' | 'fault' | 'auto';

export interface CommandOptions {
  /** A takeover of a filer whose server does not answer, allowed once its lease has expired. */
  readonly force?: boolean;
}

export interface EventReport {
  readonly atMs: number;
  readonly node: string;
  readonly filer: string;
  /** fence: the node's lease lapsed and it stopped serving; fault: it asked its partner to take over. */
  readonly kind: OperationKind | 'start' | 'rollback' | 'fence' | 'fault';
  /** For takeover and giveback: what started it; null otherwise. */
  readonly cause: OperationCause | null;
  readonly outcome: 'completed' | 'failed' | 'rolled-back';
  readonly epoch: string | null;
  /** Milliseconds per phase: detect, check, negotiate, drain, release, claim, serve, total. */
  readonly phases: Readonly<Record<string, number>>;
  readonly detail: string | null;
}

export interface NodeReport {
  readonly name: string;
  readonly partner: string;
  /** The node answering this report. */
  readonly self: boolean;
  /** Up as far as the answering node can tell (itself: always; its partner: the interconnect). */
  readonly up: boolean;
  readonly interconnectUp: boolean;
  /** Milliseconds since the answering node last heard this one (null: never; 0 for itself). */
  readonly lastHeardAgoMs: number | null;
  readonly admin: string;
  /** Whether its health check passes (null: not known, for the partner). */
  readonly healthy: boolean | null;
}

/** The answering node's latest reading of a lease of a filer it does not serve. */
export interface LeaseReport {
  readonly state: 'fresh' | 'expired' | 'released' | 'absent' | 'unreadable';
  readonly owner: string | null;
  readonly epoch: string | null;
  readonly unchangedForMs: number;
}

export interface FilerReport {
  readonly name: string;
  readonly home: string;
  /** The node serving it (from the mailbox), or null when none does. */
  readonly servedBy: string | null;
  readonly state: 'normal' | 'taken-over' | 'released' | 'giveback' | 'unknown';
  readonly epoch: string | null;
  /** The answering node's phase for it (serving, idle, draining, ...). */
  readonly phase: string;
  readonly addresses: readonly string[];
  /** One libnfs URL per address and export, with the port parameters. */
  readonly urls: readonly string[];
  /** Null when the answering node serves the filer. */
  readonly lease: LeaseReport | null;
  /** When the partner is not heard: why a failure takeover is, or is not, under way. */
  readonly takeover: string | null;
  /** Why the answering node's last action for the filer failed (it does not serve it), if one did. */
  readonly failure: string | null;
  /** A fault the answering node reported while serving the filer (it asked its partner to take over). */
  readonly fault: string | null;
  /** Why automatic giveback stopped for this filer (the ping-pong guard), if it did. */
  readonly autoGiveback: string | null;
}

export interface StatusReport {
  readonly cluster: string;
  readonly node: string;
  readonly generatedAtMs: number;
  readonly nodes: readonly NodeReport[];
  readonly filers: readonly FilerReport[];
  readonly operation: { readonly id: string; readonly kind: OperationKind; readonly cause: OperationCause; readonly filer: string; readonly role: string } | null;
  readonly lastTakeover: EventReport | null;
  readonly lastGiveback: EventReport | null;
}

/**
 * Whether `report` shows the cluster settled at home: every node up with the interconnect up
 * (a planned takeover, and the reply mirror, need it), and every filer in state normal, served
 * by its home node and, on the answering node's own filers, in phase serving.
 */
export function settledAtHome(report: StatusReport): boolean {
  return (
    report.nodes.every((node) => node.up && node.interconnectUp) &&
    report.filers.every((filer) => filer.servedBy === filer.home && filer.state === 'normal' && (filer.home !== report.node || filer.phase === 'serving'))
  );
}

export type CommandReport =
  | { readonly ok: true; readonly event: EventReport }
  | { readonly ok: false; readonly reason: string };

export interface ClusterService {
  status(): Promise<StatusReport>;
  /** The event history, oldest first (bounded). */
  events(): Promise<readonly EventReport[]>;
  /** Runs a takeover or giveback (forwarded to the node that carries it out) to its end. */
  command(kind: OperationKind, filer: string, options?: CommandOptions): Promise<CommandReport>;
}
