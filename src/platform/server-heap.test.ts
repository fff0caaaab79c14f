import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SERVER_NODE_OPTIONS } from './server-heap.js';

test('the tandem command starts node with the server heap options (its first line)', () => {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const shebang = readFileSync(main, 'utf8').split('\n', 1)[0];
  assert.equal(shebang, `#!/usr/bin/env -S node ${SERVER_NODE_OPTIONS.join(' ')}`);
});
