// Every way of starting a long-running metalflow process passes NODE_FLAGS: Node takes them only
// on its command line, so each launcher names them and this keeps them from drifting apart. (The
// tests and benches that start processes import NODE_FLAGS itself; the last case finds those that
// start a rack, region or `start` without it.)
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

  it('starts every rack, region and `start` the tests and benches run (so they measure what runs in production)', () => {
    const files = (dir: string): string[] =>
      fs
        .readdirSync(path.join(ROOT, dir), { withFileTypes: true })
        .flatMap((e) =>
          e.isDirectory() ? files(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
        );
    // Each `process.execPath, …, bin/metalflow.js, <long-running command>` in the code, whitespace
    // and line breaks folded, with what stands between the two.
    const launch =
      /process\.execPath,\s*(?<flags>[^\]]*?)[^\],]*metalflow\.js'\)?,\s*(?:\.\.\.ARGS\[|'(?:rack|region|start)')/g;
    const launches = ['test', 'bench'].flatMap(files).flatMap((file) => {
      const text = read(file);
      return [...text.replace(/\s+/g, ' ').matchAll(launch)].map((m) => ({ file, flags: m.groups!.flags!, text }));
    });
    assert.ok(launches.length >= 4, `found ${launches.length} launches: the pattern no longer finds them`);
    for (const { file, flags, text } of launches)
      assert.ok(
        flags.includes('...NODE_FLAGS') || (flags.includes('...nodeArgs') && text.includes('[...NODE_FLAGS')),
        `${file}: starts metalflow without NODE_FLAGS (${flags})`,
      );
  });
});
