// When a failure takeover is due, and why not (layer: cluster/core; no I/O, no clock): pure
// rules over what a node knows of a filer it does not serve, its lease readings and the probe
// (docs/design/fencing.md, "The partner's side" and "As built"). NodeCore acts on them.

import type { LeaseView } from './types.js';

/** What the rules read of one filer. */
export interface FilerView {
  readonly name: string;
  readonly home: string;
  readonly epoch: bigint | undefined;
  readonly servedBy: string | undefined;
  readonly lease: LeaseView | undefined;
  readonly partnerGone: { readonly detail: string; readonly epoch: bigint | undefined } | undefined;
}

/** What the rules read of the node. */
export interface PairView {
  readonly node: string;
  readonly partner: string;
  readonly peerUp: boolean;
  /** CoreConfig.releasedGraceMs, or 0. */
  readonly releasedGraceMs: number;
}

export /** Why a failure takeover is due, and what the mailbox must still show for it to go ahead. */
interface FailoverDue {
  readonly reason: string;
  readonly expected: { readonly owner: string; readonly epoch: bigint };
}

/** Why a failure takeover of `filer` is due now, and what the mailbox must show; undefined if it is not. */
export function failoverDue(filer: FilerView, pair: PairView): FailoverDue | undefined {
  const { lease } = filer;
  const partner = pair.partner;
  const current = lease !== undefined && lease.owner !== undefined && lease.epoch !== undefined && (filer.epoch === undefined || lease.epoch >= filer.epoch);
  if (current) {
    const expected = { owner: lease.owner!, epoch: lease.epoch! };
    if (lease.state === 'released') {
      const grace = filer.home === pair.node ? 0 : pair.releasedGraceMs;
      if (lease.unchangedForMs < grace) return undefined;
      return { reason: `${expected.owner} released its lease at epoch ${expected.epoch} without handing it over`, expected };
    }
    if (lease.state === 'expired') {
      const silent = `unchanged for ${Math.round(lease.unchangedForMs)} ms`;
      const reason = pair.peerUp || expected.owner !== partner
        ? `the lease of ${expected.owner} lapsed (${silent}): it stopped serving`
        : `${partner} is silent on both channels: interconnect down, lease ${silent}`;
      return { reason, expected };
    }
  }
  const gone = filer.partnerGone;
  if (gone !== undefined && gone.epoch === filer.epoch && !pair.peerUp && filer.servedBy === partner && filer.epoch !== undefined) {
    return { reason: `${partner}'s process is gone (${gone.detail})`, expected: { owner: partner, epoch: filer.epoch } };
  }
  return undefined;
}

/** Why the lease readings do not allow a failure (or forced) takeover of `filer`. */
export function leaseRefusal(filer: FilerView): string {
  const lease = filer.lease;
  if (lease === undefined) return `${filer.name}'s lease has not been read yet`;
  const holder = lease.owner ?? 'its holder';
  switch (lease.state) {
    case 'fresh':
      return `${holder}'s lease of ${filer.name} is being renewed (last change ${Math.round(lease.unchangedForMs)} ms ago)`;
    case 'unreadable':
      return `the lease of ${filer.name} cannot be read (${lease.error ?? 'unknown error'}), so nothing shows that ${holder} stopped serving it`;
    case 'absent':
      return `${filer.name} was never claimed`;
    case 'released':
      return `${holder} released ${filer.name} at epoch ${lease.epoch}; its home node ${filer.home} may claim it first`;
    default:
      return `the lease of ${filer.name} at epoch ${lease.epoch} is older than epoch ${filer.epoch}, claimed by ${filer.servedBy ?? 'another node'}`;
  }
}
