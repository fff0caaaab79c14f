// How the operator commands show the admin API's reports to a person: the status as a nodes
// table and a filers table followed by the last takeover and giveback, and one line per event
// with its phase timings. Layer: cli. Pure functions from reports to text; `--json` bypasses
// them and prints the API's JSON instead.

import type { EventReport, StatusReport } from '../admin/cluster-service.js';

/** The phases of an operation in the order they run (docs/design/takeover.md). */
export const PHASE_ORDER: readonly string[] = ['detect', 'check', 'negotiate', 'drain', 'release', 'claim', 'serve'];

/** "takeover a: completed in 84 ms (check 2, negotiate 3, drain 40, release 25, claim 4, serve 10)". */
export function formatOutcome(event: EventReport): string {
  const phases = Object.entries(event.phases).filter(([name]) => name !== 'total');
  phases.sort(([a], [b]) => rank(a) - rank(b));
  const total = event.phases['total'];
  const took = total === undefined ? '' : `${event.outcome === 'completed' ? ' in' : ' after'} ${total} ms`;
  const timings = phases.length === 0 ? '' : ` (${phases.map(([name, ms]) => `${name} ${ms}`).join(', ')})`;
  const detail = event.detail === null ? '' : `: ${event.detail}`;
  const cause = event.cause === null || event.cause === 'operator' ? '' : ` (${event.cause})`;
  return `${event.kind}${cause} ${event.filer}: ${event.outcome}${took}${timings}${detail}`;
}

/** One line of `tandem events`: when, which node recorded it, the outcome, the epoch. */
export function formatEventLine(event: EventReport): string {
  const epoch = event.epoch === null ? '' : `, epoch ${event.epoch}`;
  return `${new Date(event.atMs).toISOString()}  ${event.node}  ${formatOutcome(event)}${epoch}`;
}

export function formatStatus(report: StatusReport): string {
  const nodes = formatTable(
    ['NODE', 'UP', 'INTERCONNECT', 'LAST HEARD'],
    report.nodes.map((node) => [[
      node.name,
      yesNo(node.up),
      node.interconnectUp ? 'up' : 'down',
      node.self ? 'this node' : node.lastHeardAgoMs === null ? 'never' : `${formatAge(node.lastHeardAgoMs)} ago`,
    ]]),
  );
  const filers = formatTable(
    ['FILER', 'HOME', 'SERVED BY', 'STATE', 'EPOCH', 'PHASE', 'URLS'],
    report.filers.map((filer) => {
      const first = [filer.name, filer.home, filer.servedBy ?? '-', filer.state, filer.epoch ?? '-', filer.phase, filer.urls[0] ?? '-'];
      return [first, ...filer.urls.slice(1).map((url) => ['', '', '', '', '', '', url])];
    }),
  );
  const operation = report.operation === null
    ? 'none running'
    : `${report.operation.kind} ${report.operation.filer} running (${report.operation.cause}; this node: ${report.operation.role}, id ${report.operation.id})`;
  // What an operator must not miss: why a failure takeover is (not) happening, faults, the guard.
  const notes = report.filers.flatMap((filer) => [
    ...(filer.takeover === null ? [] : [`${filer.name}: ${filer.takeover}`]),
    ...(filer.failure === null ? [] : [`${filer.name}: not served here: ${filer.failure}`]),
    ...(filer.fault === null ? [] : [`${filer.name}: fault, partner asked to take over: ${filer.fault}`]),
    ...(filer.autoGiveback === null ? [] : [`${filer.name}: ${filer.autoGiveback}`]),
  ]);
  return [
    `cluster ${report.cluster}, as node ${report.node} sees it at ${new Date(report.generatedAtMs).toISOString()}`,
    '',
    ...nodes,
    '',
    ...filers,
    '',
    ...(notes.length === 0 ? [] : [...notes, '']),
    `operation:      ${operation}`,
    `last takeover:  ${lastEvent(report.lastTakeover)}`,
    `last giveback:  ${lastEvent(report.lastGiveback)}`,
  ].join('\n');
}

function lastEvent(event: EventReport | null): string {
  if (event === null) return 'none';
  const epoch = event.epoch === null ? '' : `, epoch ${event.epoch}`;
  return `${formatOutcome(event)}${epoch}, by node ${event.node} at ${new Date(event.atMs).toISOString()}`;
}

/** Columns padded to their widest cell; each entry of `rows` is one or more lines of cells. */
function formatTable(header: readonly string[], rows: readonly (readonly (readonly string[])[])[]): string[] {
  const lines = [header, ...rows.flat()];
  const widths = header.map((_, column) => Math.max(...lines.map((cells) => cells[column]?.length ?? 0)));
  return lines.map((cells) => cells.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

function rank(phase: string): number {
  const index = PHASE_ORDER.indexOf(phase);
  return index === -1 ? PHASE_ORDER.length : index;
}

function yesNo(value: boolean): string {
  return value ? 'yes' : 'no';
}

/** 840 ms, 12.5 s, 3 min 20 s. */
function formatAge(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.floor((ms % 60_000) / 1_000)} s`;
}
