// Tests of the connection report a filer's server sends its partner: what goes out comes back
// the same through JSON, and every malformed report is refused whole, with the reason.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CONNECTIONS_MAX, type TcpConnectionEndpoints } from '../../rpc/tcp-server.js';
import { connectionsFromWire, connectionsToWire } from './connection-report.js';

const CONNECTIONS: readonly TcpConnectionEndpoints[] = [
  { client: '198.18.0.200', clientPort: 901, server: '198.18.0.11', serverPort: 2049 },
  { client: '2001:db8::200', clientPort: 65535, server: '2001:db8::11', serverPort: 20490 },
  { client: '198.18.0.100', clientPort: 1, server: '198.18.0.11', serverPort: 2049 },
];

/** What the partner receives: the report after a trip through JSON, as the interconnect carries it. */
const overTheWire = (filer: string, epoch: bigint, connections: readonly TcpConnectionEndpoints[]) =>
  connectionsFromWire(JSON.parse(JSON.stringify(connectionsToWire(filer, epoch, connections))) as unknown);

const key = (c: TcpConnectionEndpoints) => `${c.client} ${c.clientPort} ${c.server} ${c.serverPort}`;

test('connection report: a report comes back through JSON as it was sent', () => {
  // Goal: the partner tickles exactly the connections the server had, under the right epoch.
  const epoch = 2n ** 63n + 5n;
  const report = overTheWire('fa', epoch, CONNECTIONS);
  assert.ok(typeof report === 'object', `refused: ${String(report)}`);
  assert.equal(report.filer, 'fa');
  assert.equal(report.epoch, epoch);
  assert.deepEqual(report.connections.map(key).sort(), CONNECTIONS.map(key).sort());

  const empty = overTheWire('fb', 0n, []);
  assert.deepEqual(empty, { filer: 'fb', epoch: 0n, connections: [] });
});

test('connection report: the wire form is compact and does not depend on the order connections were listed in', () => {
  // Goal: equal reports are equal bytes, so a repeated report is recognisably the same.
  const wire = connectionsToWire('fa', 7n, CONNECTIONS);
  assert.deepEqual(wire, connectionsToWire('fa', 7n, [...CONNECTIONS].reverse()));
  const list = (wire as { connections: unknown[] }).connections;
  assert.deepEqual(list[0], ['198.18.0.100', 1, '198.18.0.11', 2049]);
  assert.equal((wire as { epoch: unknown }).epoch, '7', 'the epoch travels as a string: JSON numbers lose 64-bit precision');
});

test('connection report: a report of more than CONNECTIONS_MAX is cut to the limit, and is then accepted', () => {
  // Goal: a server at its connection limit still sends a report its partner takes.
  const many = Array.from({ length: CONNECTIONS_MAX + 5 }, (_, index) => ({
    client: `10.${(index >> 8) & 255}.${index & 255}.1`,
    clientPort: 1000 + index,
    server: '198.18.0.11',
    serverPort: 2049,
  }));
  const report = overTheWire('fa', 1n, many);
  assert.ok(typeof report === 'object', `refused: ${String(report)}`);
  assert.equal(report.connections.length, CONNECTIONS_MAX);
});

test('connection report: every malformed report is refused with a reason', () => {
  // Goal: a partner's bad message is never half-applied, and the log says what was wrong.
  const good = ['198.18.0.200', 901, '198.18.0.11', 2049];
  const body = (change: Record<string, unknown>) => ({ filer: 'fa', epoch: '3', connections: [good], ...change });
  const cases: [string, unknown, RegExp][] = [
    ['null', null, /not an object/],
    ['a list', [good], /not an object/],
    ['a string', 'fa', /not an object/],
    ['a number', 42, /not an object/],
    ['no filer', { epoch: '3', connections: [] }, /filer and epoch/],
    ['a numeric epoch', body({ epoch: 3 }), /filer and epoch/],
    ['a negative epoch', body({ epoch: '-1' }), /filer and epoch/],
    ['an epoch with a leading zero', body({ epoch: '03' }), /filer and epoch/],
    ['an epoch of 21 digits', body({ epoch: '1'.repeat(21) }), /filer and epoch/],
    ['an epoch that is not a number', body({ epoch: 'three' }), /filer and epoch/],
    ['connections not a list', body({ connections: { 0: good } }), /connections must be a list of at most 1024/],
    ['too many connections', body({ connections: Array.from({ length: CONNECTIONS_MAX + 1 }, () => good) }), /at most 1024/],
    ['a connection that is an object', body({ connections: [{ client: '198.18.0.200' }] }), /not \[client, clientPort, server, serverPort\]/],
    ['a connection of 3', body({ connections: [good.slice(0, 3)] }), /not \[client, clientPort, server, serverPort\]/],
    ['a connection of 5', body({ connections: [[...good, 1]] }), /not \[client, clientPort, server, serverPort\]/],
    ['a client that is a host name', body({ connections: [['client.example', 901, '198.18.0.11', 2049]] }), /not an IP address/],
    ['a server out of range', body({ connections: [['198.18.0.200', 901, '198.18.0.256', 2049]] }), /not an IP address/],
    ['a client that is a number', body({ connections: [[3323068616, 901, '198.18.0.11', 2049]] }), /not an IP address/],
    ['client port 0', body({ connections: [['198.18.0.200', 0, '198.18.0.11', 2049]] }), /port out of range/],
    ['server port 65536', body({ connections: [['198.18.0.200', 901, '198.18.0.11', 65536]] }), /port out of range/],
    ['a fractional port', body({ connections: [['198.18.0.200', 901.5, '198.18.0.11', 2049]] }), /port out of range/],
    ['a port as a string', body({ connections: [['198.18.0.200', '901', '198.18.0.11', 2049]] }), /port out of range/],
  ];
  for (const [why, input, reason] of cases) {
    const outcome = connectionsFromWire(input);
    assert.equal(typeof outcome, 'string', `${why}: accepted`);
    assert.match(outcome as string, reason, why);
  }
  // One bad connection among good ones refuses the whole report.
  assert.equal(typeof connectionsFromWire(body({ connections: [good, [...good.slice(0, 3), 0]] })), 'string');
});
