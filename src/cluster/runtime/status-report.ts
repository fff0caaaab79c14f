// The admin API's status and event JSON, built from what a node knows (layer: cluster/runtime):
// its core's status, the mailbox of each filer, and what its interconnect heard. It matches
// src/admin/cluster-service.ts structurally (the runtime does not import the admin layer).

import type { NodeConfig } from '../config.js';
import type { CoreStatus } from '../core/node-core.js';
import type { ClusterEvent, LeaseView, MailboxView, OperationKind } from '../core/types.js';

export interface EventJson {
  readonly atMs: number;
  readonly node: string;
  readonly filer: string;
  readonly kind: ClusterEvent['kind'];
  readonly cause: NonNullable<ClusterEvent['cause']> | null;
  readonly outcome: ClusterEvent['outcome'];
  readonly epoch: string | null;
  readonly phases: Readonly<Record<string, number>>;
  readonly detail: string | null;
}

/** An event as JSON, stamped with the wall-clock time `atMs` (the core's clock is monotonic). */
export function eventJson(event: ClusterEvent, atMs: number): EventJson {
  return {
    atMs,
    node: event.node,
    filer: event.filer,
    kind: event.kind,
    cause: event.cause ?? null,
    outcome: event.outcome,
    epoch: event.epoch === undefined ? null : String(event.epoch),
    phases: { ...event.phases },
    detail: event.detail ?? null,
  };
}

export interface StatusInputs {
  readonly cluster: string;
  readonly node: NodeConfig;
  readonly partner: NodeConfig;
  readonly core: CoreStatus;
  readonly interconnectUp: boolean;
  readonly heardAgoMs: number | undefined;
  /** Per filer: the mailbox, the addresses and the URLs. */
  readonly filers: ReadonlyMap<string, { readonly mailbox: MailboxView; readonly addresses: readonly string[]; readonly urls: readonly string[] }>;
  readonly events: readonly EventJson[];
}

export function statusReport(inputs: StatusInputs) {
  const { core, node, partner } = inputs;
  // The partner is up if either channel says so: a cut interconnect with a lease being renewed
  // is a live partner (fencing.md, "Two channels, one decision").
  const renewing = core.filers.some((filer) => filer.lease?.state === 'fresh' && filer.lease.owner === partner.name);
  const endpoint = (n: NodeConfig) => `${n.admin.host}:${n.admin.port}`;
  const last = (kind: OperationKind) => [...inputs.events].reverse().find((event) => event.kind === kind) ?? null;
  return {
    cluster: inputs.cluster,
    node: node.name,
    generatedAtMs: Date.now(),
    nodes: [
      { name: node.name, partner: partner.name, self: true, up: true, interconnectUp: inputs.interconnectUp, lastHeardAgoMs: 0, admin: endpoint(node), healthy: core.healthy },
      {
        name: partner.name,
        partner: node.name,
        self: false,
        up: inputs.interconnectUp || renewing,
        interconnectUp: inputs.interconnectUp,
        lastHeardAgoMs: inputs.heardAgoMs === undefined ? null : Math.round(inputs.heardAgoMs),
        admin: endpoint(partner),
        healthy: null,
      },
    ],
    filers: core.filers.map((filer) => {
      const { mailbox, addresses, urls } = inputs.filers.get(filer.name)!;
      return {
        name: filer.name,
        home: filer.home,
        servedBy: mailbox.state === 'released' ? null : (mailbox.owner ?? null),
        state: mailbox.state ?? ('unknown' as const),
        epoch: mailbox.epoch === undefined ? null : String(mailbox.epoch),
        phase: filer.phase,
        addresses,
        urls,
        lease: leaseJson(filer.lease),
        takeover: filer.takeover ?? null,
        failure: filer.phase === 'failed' ? (filer.failure ?? null) : null,
        fault: filer.fault ?? null,
        autoGiveback: filer.autoGiveback ?? null,
      };
    }),
    operation: core.operation ?? null,
    lastTakeover: last('takeover'),
    lastGiveback: last('giveback'),
  };
}

function leaseJson(lease: LeaseView | undefined) {
  if (lease === undefined) return null;
  return {
    state: lease.state,
    owner: lease.owner ?? null,
    epoch: lease.epoch === undefined ? null : String(lease.epoch),
    unchangedForMs: Math.round(lease.unchangedForMs),
  };
}
