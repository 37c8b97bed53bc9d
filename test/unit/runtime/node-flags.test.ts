// Every way of starting a long-running metalflow process passes NODE_FLAGS: Node takes them only
// on its command line, so each launcher names them and this keeps them from drifting apart. (The
// test stacks, test/helpers/stack.ts and region-cluster.ts, import NODE_FLAGS itself.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { NODE_FLAGS } from '../../../src/runtime/node-flags';

const ROOT = path.resolve(__dirname, '../../..');
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), 'utf8');
const flags = NODE_FLAGS.join(' ');

describe('NODE_FLAGS', () => {
  it('is on the command line of package.json’s start, region and rack scripts', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    for (const name of ['start', 'region', 'rack'])
      assert.match(scripts[name]!, new RegExp(`(^|&& )node ${flags} bin/metalflow\\.js ${name}$`), name);
  });

  it('is in bin/metalflow.js’s shebang (npx metalflow, ./bin/metalflow.js)', () => {
    assert.equal(read('bin/metalflow.js').split('\n')[0], `#!/usr/bin/env -S node ${flags}`);
  });

  it('is the image’s NODE_OPTIONS (docker-compose runs `node bin/metalflow.js …` in it)', () => {
    assert.match(read('Dockerfile'), new RegExp(`^ENV NODE_OPTIONS=${flags}$`, 'm'));
  });
});
