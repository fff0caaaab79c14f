// A fake ClusterService for tests of the admin API and the operator commands: canned reports of
// a two-node pair after a takeover, a scripted answer to commands, and a record of the calls.

import type { ClusterService, CommandReport, EventReport, OperationKind, StatusReport } from './cluster-service.js';

export const TAKEOVER_EVENT: EventReport = {
  atMs: Date.UTC(2025, 0, 2, 3, 4, 5),
  node: 'b',
  filer: 'a',
  kind: 'takeover',
  cause: 'operator',
  outcome: 'completed',
  epoch: '2',
  phases: { check: 2, negotiate: 3, drain: 40, release: 25, claim: 4, serve: 10, total: 84 },
  detail: null,
};

export const GIVEBACK_EVENT: EventReport = {
  ...TAKEOVER_EVENT,
  atMs: TAKEOVER_EVENT.atMs + 60_000,
  node: 'a',
  kind: 'giveback',
  epoch: '3',
  phases: { check: 1, negotiate: 2, drain: 30, release: 20, claim: 3, serve: 9, total: 65 },
};

export function sampleStatus(): StatusReport {
  return {
    cluster: 'pair',
    node: 'b',
    generatedAtMs: TAKEOVER_EVENT.atMs + 1_000,
    nodes: [
      { name: 'a', partner: 'b', self: false, up: true, interconnectUp: true, lastHeardAgoMs: 12, admin: '127.0.0.1:31101', healthy: null },
      { name: 'b', partner: 'a', self: true, up: true, interconnectUp: true, lastHeardAgoMs: 0, admin: '127.0.0.1:31102', healthy: true },
    ],
    filers: [
      {
        name: 'a', home: 'a', servedBy: 'b', state: 'taken-over', epoch: '2', phase: 'serving',
        addresses: ['127.0.0.11'], urls: ['nfs://127.0.0.11/a?version=3&nfsport=20490&mountport=20490'],
        lease: null, takeover: null, failure: null, fault: null, autoGiveback: null,
      },
      {
        name: 'b', home: 'b', servedBy: 'b', state: 'normal', epoch: '1', phase: 'serving',
        addresses: ['127.0.0.12', '127.0.0.13'],
        urls: ['nfs://127.0.0.12/b?version=3&nfsport=20490&mountport=20490', 'nfs://127.0.0.13/b?version=3&nfsport=20490&mountport=20490'],
        lease: null, takeover: null, failure: null, fault: null, autoGiveback: null,
      },
    ],
    operation: null,
    lastTakeover: TAKEOVER_EVENT,
    lastGiveback: null,
  };
}

export class FakeClusterService implements ClusterService {
  readonly calls: string[] = [];
  statusReport: StatusReport = sampleStatus();
  eventList: readonly EventReport[] = [TAKEOVER_EVENT, GIVEBACK_EVENT];
  /** What command() answers; a refusal unless a test says otherwise. */
  answer: (kind: OperationKind, filer: string) => CommandReport = (_kind, filer) => ({ ok: false, reason: `filer ${filer} is already taken over` });
  /** When set, every method throws this. */
  failure: Error | undefined;

  async status(): Promise<StatusReport> {
    this.calls.push('status');
    if (this.failure !== undefined) throw this.failure;
    return this.statusReport;
  }

  async events(): Promise<readonly EventReport[]> {
    this.calls.push('events');
    if (this.failure !== undefined) throw this.failure;
    return this.eventList;
  }

  async command(kind: OperationKind, filer: string): Promise<CommandReport> {
    this.calls.push(`${kind} ${filer}`);
    if (this.failure !== undefined) throw this.failure;
    return this.answer(kind, filer);
  }
}
