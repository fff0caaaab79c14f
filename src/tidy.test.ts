// Tidy: keeps the layer arrows of STYLE.md ("Layout") honest by reading the TypeScript sources.
// Every relative import of a non-test file under src/ must point at its own layer or at one its
// row allows; a src/ folder without a row fails, so a new layer is placed deliberately. Also: no
// folder named utils, common or helpers, and every source file opens with a comment. In the
// spirit of tigerbeetle's src/tidy.zig; the checks are pure functions, tested on small examples.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Which layers each layer may import (itself always allowed). Keys are folders under src/; a
 * two-segment key (cluster/core) takes precedence over a one-segment key for paths below it.
 */
const LAYERS: ReadonlyMap<string, readonly string[]> = new Map<string, readonly string[]>([
  ['platform', []],
  ['xdr', []],
  ['storage', ['platform']],
  ['rpc', ['xdr', 'platform']],
  ['exports', ['rpc', 'storage', 'platform']],
  ['portmap', ['xdr', 'rpc', 'platform']],
  ['mount', ['xdr', 'rpc', 'exports', 'storage', 'platform']],
  ['nfs3', ['xdr', 'rpc', 'exports', 'storage', 'platform']],
  ['server', ['xdr', 'rpc', 'portmap', 'mount', 'nfs3', 'exports', 'storage', 'platform']],
  // The cluster runtime wires servers; cluster/core (below, when it appears) stays pure.
  ['cluster', ['xdr', 'rpc', 'portmap', 'mount', 'nfs3', 'exports', 'storage', 'server', 'platform']],
  // The admin API is thin over one ClusterService that the cluster runtime implements
  // structurally, so admin needs no layer but platform (its logger).
  ['admin', ['platform']],
  // STYLE.md has cli thin over the admin API; serve, demo and init still wire layers directly.
  ['cli', ['xdr', 'rpc', 'portmap', 'mount', 'nfs3', 'exports', 'storage', 'server', 'cluster', 'admin', 'platform']],
  // Future layers: uncomment (and refine) when the folder appears. Until then a file there fails.
  // ['cluster/core', ['platform']],  // pure state machine: no I/O, no clock; platform types only
  // ['cluster/interconnect', [...]], ['cluster/runtime', [...]], ['cluster/address', [...]],
]);

const FORBIDDEN_FOLDERS: ReadonlySet<string> = new Set(['utils', 'common', 'helpers']);

/** Test code and test fixtures: not subject to the layer rules, and not importable by sources. */
const isTestPath = (path: string): boolean => /\.test\.[jt]s$|-fixture\.[jt]s$/.test(path);

/** The layer row a src/-relative path belongs to, or undefined when it has none. */
function layerOf(inSrc: string): string | undefined {
  const segments = inSrc.split('/');
  if (segments.length < 2) return undefined; // a file directly in src/ belongs to no layer
  const two = `${segments[0]}/${segments[1]}`;
  if (segments.length > 2 && LAYERS.has(two)) return two;
  return LAYERS.has(segments[0]!) ? segments[0] : undefined;
}

/** The folder a src/-relative path would need a row for (its first segment). */
const folderOf = (inSrc: string): string => inSrc.split('/')[0]!;

/** Every module specifier in `source`: static import/export ... from, side-effect and dynamic. */
export function importsOf(source: string): string[] {
  const patterns = [
    /^[ \t]*(?:import|export)\s+(?:type\s+)?(?:[\w$]+\s*,\s*)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+)\s+from\s*['"]([^'"]+)['"]/gm,
    /^[ \t]*import\s*['"]([^'"]+)['"]/gm,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  return patterns.flatMap((pattern) => [...source.matchAll(pattern)].map((match) => match[1]!));
}

function rule(layer: string): string {
  const allowed = LAYERS.get(layer) ?? [];
  return allowed.length === 0 ? `${layer} may import nothing` : `${layer} may import only ${allowed.join(', ')}`;
}

function opensWithComment(source: string): boolean {
  const lines = source.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const first = lines[0]?.startsWith('#!') ? lines[1] : lines[0];
  return first !== undefined && (first.startsWith('//') || first.startsWith('/*'));
}

/**
 * Violations of the layer table and the header rule, for files keyed by repository-relative
 * posix path (src/storage/volume.ts). Files outside src/, tests and fixtures are skipped.
 */
export function violations(files: ReadonlyMap<string, string>): string[] {
  const found: string[] = [];
  for (const [file, source] of files) {
    if (!file.startsWith('src/') || !file.endsWith('.ts') || isTestPath(file)) continue;
    if (!opensWithComment(source)) found.push(`${file}: does not open with a comment (STYLE.md: each file opens with a short paragraph)`);
    const inSrc = file.slice('src/'.length);
    const layer = layerOf(inSrc);
    if (layer === undefined) {
      found.push(inSrc.includes('/')
        ? `${file}: folder src/${folderOf(inSrc)} has no row in the layer table of src/tidy.test.ts; place the new layer deliberately`
        : `${file}: lies directly in src/, outside every layer folder`);
      continue;
    }
    for (const specifier of importsOf(source)) {
      if (!specifier.startsWith('.')) continue; // node: builtins and packages
      const target = posix.normalize(posix.join(posix.dirname(file), specifier));
      const where = `${file} imports ${specifier}`;
      if (!target.startsWith('src/')) {
        found.push(`${where}: resolves to ${target}, outside src/`);
        continue;
      }
      if (isTestPath(target)) {
        found.push(`${where}: source code may not import test code or fixtures`);
        continue;
      }
      const targetInSrc = target.slice('src/'.length);
      const targetLayer = layerOf(targetInSrc);
      if (targetLayer === undefined) {
        found.push(targetInSrc.includes('/')
          ? `${where}: folder src/${folderOf(targetInSrc)} has no row in the layer table of src/tidy.test.ts`
          : `${where}: resolves to ${target}, outside every layer folder`);
        continue;
      }
      if (targetLayer !== layer && !(LAYERS.get(layer) ?? []).includes(targetLayer)) found.push(`${where}: ${rule(layer)}`);
    }
  }
  return found;
}

/** Violations of the folder rules, for repository-relative posix directory paths. */
export function folderViolations(directories: readonly string[]): string[] {
  const found: string[] = [];
  for (const directory of directories) {
    const name = posix.basename(directory);
    if (FORBIDDEN_FOLDERS.has(name)) found.push(`${directory}: no folder named utils, common or helpers; name it for what it is`);
    const segments = directory.split('/');
    if (segments[0] === 'src' && segments.length === 2 && !LAYERS.has(name) && ![...LAYERS.keys()].some((key) => key.startsWith(`${name}/`))) {
      found.push(`${directory}: has no row in the layer table of src/tidy.test.ts; place the new layer deliberately`);
    }
  }
  return found;
}

/** The repository root: the nearest ancestor of this file holding package.json and src/tidy.test.ts. */
function repositoryRoot(): string {
  let directory = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(directory, 'package.json')) && existsSync(join(directory, 'src', 'tidy.test.ts'))) return directory;
    const parent = dirname(directory);
    if (parent === directory) throw new Error(`tidy: no repository root above ${fileURLToPath(import.meta.url)}`);
    directory = parent;
  }
}

/** Every directory and .ts file below `top` (repository-relative posix paths), skipping node_modules. */
function walk(root: string, top: string): { directories: string[]; files: Map<string, string> } {
  const directories: string[] = [];
  const files = new Map<string, string>();
  const visit = (relative: string): void => {
    for (const entry of readdirSync(join(root, relative), { withFileTypes: true })) {
      const path = posix.join(relative, entry.name);
      if (entry.isDirectory() && entry.name !== 'node_modules') {
        directories.push(path);
        visit(path);
      } else if (entry.isFile() && entry.name.endsWith('.ts')) {
        files.set(path, readFileSync(join(root, path), 'utf8'));
      }
    }
  };
  if (existsSync(join(root, top))) visit(top);
  return { directories, files };
}

test('importsOf finds static, type-only, multi-line, re-export, side-effect and dynamic imports', () => {
  // Goal: the scanner sees every form of relative import the sources use, and nothing else.
  const source = [
    "import { a } from './a.js';",
    "import type { B } from '../b/b.js';",
    'import {',
    '  c,',
    '  type D,',
    "} from '../c/c.js';",
    "import * as e from './e.js';",
    "import f, { g } from './f.js';",
    "export { h } from './h.js';",
    "export * from './i.js';",
    "export type { J } from './j.js';",
    "import './k.js';",
    "const l = await import('./l.js');",
    "const text = 'from here';",
    'export const m = 1;',
  ].join('\n');
  assert.deepEqual(importsOf(source).sort(), [
    '../b/b.js', '../c/c.js', './a.js', './e.js', './f.js', './h.js', './i.js', './j.js', './k.js', './l.js',
  ]);
});

test('violations names the file, the import and the rule, and skips tests and fixtures', () => {
  // Goal: the check can fail, and its messages say exactly what to fix.
  const header = '// A file.\n\n';
  const files = new Map<string, string>([
    ['src/storage/x.ts', `${header}import { NFS3_OK } from '../nfs3/constants.js';\nimport { Logger } from '../platform/logger.js';\n`],
    ['src/storage/y.ts', `${header}import { x } from './x.js';\nimport { f } from './volume-fixture.js';\n`],
    ['src/rpc/z.ts', `${header}import type {\n  Gate,\n} from '../server/request-gate.js';\nimport { XdrReader } from '../xdr/index.js';\n`],
    ['src/xdr/w.ts', `${header}export { Clock } from '../platform/clock.js';\n`],
    ['src/nfs3/procedures/p.ts', `${header}import { v } from '../../storage/volume.js';\nimport { t } from '../types.js';\n`],
    ['src/cli/main.ts', `#!/usr/bin/env node\n// The command.\nimport { s } from '../server/file-server.js';\nimport { u } from '../../test/support/scratch.js';\n`],
    ['src/server/q.ts', `import { a } from '../dashboard/api.js';\n`],
    ['src/gadget/core/state.ts', `${header}export const state = 1;\n`],
    ['src/index.ts', `${header}export {};\n`],
    ['src/storage/x.test.ts', `import { NFS3_OK } from '../nfs3/constants.js';\n`],
    ['src/storage/volume-fixture.ts', `import { NFS3_OK } from '../nfs3/constants.js';\n`],
    ['test/integration/a.test.ts', `import { s } from '../../src/server/file-server.js';\n`],
  ]);
  assert.deepEqual(violations(files), [
    'src/storage/x.ts imports ../nfs3/constants.js: storage may import only platform',
    'src/storage/y.ts imports ./volume-fixture.js: source code may not import test code or fixtures',
    'src/rpc/z.ts imports ../server/request-gate.js: rpc may import only xdr, platform',
    'src/xdr/w.ts imports ../platform/clock.js: xdr may import nothing',
    'src/cli/main.ts imports ../../test/support/scratch.js: resolves to test/support/scratch.js, outside src/',
    'src/server/q.ts: does not open with a comment (STYLE.md: each file opens with a short paragraph)',
    'src/server/q.ts imports ../dashboard/api.js: folder src/dashboard has no row in the layer table of src/tidy.test.ts',
    'src/gadget/core/state.ts: folder src/gadget has no row in the layer table of src/tidy.test.ts; place the new layer deliberately',
    'src/index.ts: lies directly in src/, outside every layer folder',
  ]);
});

test('folderViolations rejects utils, common and helpers anywhere, and src/ folders without a row', () => {
  // Goal: the folder rules can fail, with a message naming the folder.
  assert.deepEqual(folderViolations(['src/rpc', 'src/rpc/helpers', 'test/common', 'test/support', 'src/gadget', 'src/nfs3/procedures']), [
    'src/rpc/helpers: no folder named utils, common or helpers; name it for what it is',
    'test/common: no folder named utils, common or helpers; name it for what it is',
    'src/gadget: has no row in the layer table of src/tidy.test.ts; place the new layer deliberately',
  ]);
});

test('the source tree keeps the layer arrows, the folder names and the file headers of STYLE.md', () => {
  // Goal: today's src/ and test/ obey every rule above; a failure lists each violation on its own line.
  const root = repositoryRoot();
  const source = walk(root, 'src');
  const tests = walk(root, 'test');
  assert.ok(source.files.size > 0, `tidy: no .ts files found under ${join(root, 'src')}`);
  const found = [...violations(source.files), ...folderViolations([...source.directories, ...tests.directories])];
  assert.deepEqual(found, [], `tidy found ${found.length} violation(s):\n${found.join('\n')}`);
});
