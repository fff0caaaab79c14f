// Unit tests of the export table: lookup by (normalized) path and by volume id, refusal of two
// exports at one path or of one volume twice, and the client rule of an export.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Volume } from '../storage/types.js';
import { HANDLE_FORMAT } from '../storage/file-handles.js';
import { parseClientRules } from './client-rules.js';
import { ExportTable, clientRule, normalizeExportPath, type Export, type Gate } from './export-table.js';

const openGate: Gate = { tryEnter: () => true, leave: () => {} };

function exportOf(path: string, idByte: number, rules = '*'): Export {
  const volume = { identity: { id: Buffer.alloc(16, idByte), name: `vol${idByte}`, fsid: 1n } } as unknown as Volume;
  return { path, volume, rules: parseClientRules(rules), gate: openGate };
}

test('export table: paths are normalized, so "/a//b/" and "/a/b" name the same export', () => {
  // Goal: MOUNT finds an export however the client spells its path.
  assert.equal(normalizeExportPath('/a//b/'), '/a/b');
  assert.equal(normalizeExportPath('a/b'), '/a/b');
  assert.equal(normalizeExportPath('///'), '/');
  assert.equal(normalizeExportPath(''), '/');
  const data = exportOf('/data/set', 1);
  const table = new ExportTable([data, exportOf('/home', 2)]);
  assert.equal(table.byPath('//data///set/'), data);
  assert.equal(table.byPath('/data'), undefined);
  assert.deepEqual(table.all.map((e) => e.path), ['/data/set', '/home']);
});

test('export table: an export is found by the volume id inside a file handle', () => {
  // Goal: NFS maps a handle's volume id to its export, and only a whole id of our format does.
  const handleOf = (id: Buffer, format = HANDLE_FORMAT) => Buffer.concat([Buffer.from([format]), id, Buffer.alloc(24, 7)]);
  const home = exportOf('/home', 2);
  // Same first bytes as home's id, so both share a key of the table: the rest must decide.
  const near = { ...exportOf('/near', 2), volume: { identity: { id: Buffer.concat([Buffer.alloc(15, 2), Buffer.from([9])]), name: 'near', fsid: 2n } } as unknown as Volume };
  const table = new ExportTable([exportOf('/data', 1), home, near]);
  assert.equal(table.byHandle(handleOf(Buffer.alloc(16, 2))), home);
  assert.equal(table.byHandle(handleOf(near.volume.identity.id)), near);
  assert.equal(table.byHandle(handleOf(Buffer.alloc(16, 3))), undefined);
  assert.equal(table.byHandle(handleOf(Buffer.concat([Buffer.alloc(15, 2), Buffer.from([8])]))), undefined);
  assert.equal(table.byHandle(handleOf(Buffer.alloc(16, 2), HANDLE_FORMAT + 1)), undefined, 'another format');
  assert.equal(table.byHandle(handleOf(Buffer.alloc(16, 2)).subarray(0, 16)), undefined, 'too short for an id');
});

test('export table: two exports at one path, or one volume exported twice, are refused', () => {
  // Goal: the table is unambiguous in both directions.
  assert.throws(() => new ExportTable([exportOf('/data', 1), exportOf('/data', 2)]), /two exports at \/data/);
  assert.throws(() => new ExportTable([exportOf('/a', 1), exportOf('/b', 1)]), /volume vol1 exported twice/);
});

test('export table: clientRule is the first matching rule of the export, or undefined', () => {
  // Goal: the export's own rules decide.
  const data = exportOf('/data', 1, '10.0.0.0/8(rw) 10.1.0.0/16(ro)');
  assert.equal(clientRule(data, '10.1.2.3')?.access, 'rw');
  assert.equal(clientRule(data, '11.0.0.1'), undefined);
  // Answers are remembered per address and per export: asked again, or of another export, the same rules decide.
  assert.equal(clientRule(data, '10.1.2.3')?.access, 'rw');
  assert.equal(clientRule(data, '11.0.0.1'), undefined);
  const other = exportOf('/other', 2, '11.0.0.0/8(ro)');
  assert.equal(clientRule(other, '11.0.0.1')?.access, 'ro');
  assert.equal(clientRule(other, '10.1.2.3'), undefined);
});
