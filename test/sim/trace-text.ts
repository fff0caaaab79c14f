// How the cluster simulation writes what happened (test/sim/cluster-sim.ts): one-line
// descriptions of messages, actions, results and lease readings for its trace, JSON with bigints
// for replies, and the gist of an event's detail, by which a seed run counts its events.

import type { Action, ActionResult, LeaseView, PeerMessage } from '../../src/cluster/core/types.js';

export function jsonBigint(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? `${value}n` : value;
}

export function describeMessage(m: PeerMessage): string {
  switch (m.type) {
    case 'release-request':
      return `release-request(${m.op} ${m.kind} ${m.filer}@${m.epoch})`;
    case 'released':
      return `released(${m.op} ${m.filer}@${m.epoch} undrained ${m.undrained})`;
    case 'acquired':
      return `acquired(${m.op} ${m.filer}@${m.epoch})`;
    case 'release-refused':
      return `release-refused(${m.op} ${m.filer}: ${m.reason})`;
    case 'release-accepted':
      return `release-accepted(${m.op} ${m.filer})`;
    case 'help':
      return `help(${m.filer}@${m.epoch}: ${m.reason})`;
  }
}

export function describeAction(a: Action): string {
  switch (a.type) {
    case 'send':
      return `send ${describeMessage(a.message)}`;
    case 'reply':
      return `reply ${a.command}`;
    case 'record':
      return `record ${a.event.kind} ${a.event.filer} ${a.event.outcome}${a.event.epoch === undefined ? '' : `@${a.event.epoch}`}`;
    case 'inspect':
    case 'drain':
    case 'probe':
      return `${a.type}#${a.id} ${a.filer}`;
    case 'release':
    case 'claim':
      return `${a.type}#${a.id} ${a.filer}@${a.epoch}`;
    case 'serve':
      return `serve#${a.id} ${a.filer}@${a.epoch} ${a.state}${a.handoffEpoch === undefined ? '' : ` handoff ${a.handoffEpoch}`}`;
  }
}

export function describeResult(r: ActionResult): string {
  if (!r.ok) return `error ${r.error}`;
  if (r.claim !== undefined) return r.claim.won ? 'won' : `lost to ${r.claim.holder}`;
  if (r.mailbox !== undefined) return `${r.mailbox.state ?? '-'} ${r.mailbox.owner ?? '-'}@${r.mailbox.epoch ?? '-'}${r.mailbox.handoff ? ' handoff' : ''}`;
  if (r.drained !== undefined) return `in progress ${r.drained.inProgress}`;
  if (r.probe !== undefined) return r.probe.gone ? `gone (${r.probe.detail})` : `not gone (${r.probe.detail})`;
  return 'ok';
}

/** A lease reading, without its exact timing (the trace logs a reading when this changes). */
export function describeLease(lease: LeaseView): string {
  const holder = lease.owner === undefined ? '' : ` ${lease.owner}@${lease.epoch}`;
  return `${lease.state}${holder}${lease.error === undefined ? '' : ` (${lease.error})`}`;
}

/** An event's detail with its names and numbers taken out, to count events by what happened. */
export function gist(detail: string): string {
  return detail.replace(/\d+(\.\d+)? ms/g, 'N ms').replace(/\b(expired at|noticed at) [\d.]+/g, '$1 T').replace(/\b[ab](-i\d+)?-\d+\b/g, 'op').replace(/\b(epoch|at) \d+/g, '$1 N').replace(/\d+ calls/g, 'N calls').replace(/\b[ab]-\d+\b/g, 'op').replace(/\b(of|by|to) [ab]\b/g, '$1 X').replace(/^[ab] (served|did)/, 'X $1').replace(/\b[ab] claimed/, 'X claimed').replace(/took [ab] back/, 'took X back').replace(/(takeover|giveback) [ab]:/, '$1 X:');
}
