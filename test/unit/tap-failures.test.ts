import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { TapFailureCollector, failureSummary } from '../../scripts/tap-failures';

/** Two files as the real runner reports them: a pass, a failing assertion in a nested suite, a rejection. */
function realTap(dir: string): string {
  const body = `import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
describe('suite', () => {
  it('passes', () => {});
  describe('inner', () => {
    it('compares', () => { assert.equal(1, 2, 'one is not two'); });
  });
});
it('rejects', async () => { throw new Error('late\\nsecond line'); });
`;
  fs.writeFileSync(path.join(dir, 'a.test.mjs'), body);
  fs.writeFileSync(path.join(dir, 'b.test.mjs'), "import { it } from 'node:test';\nit('fine', () => {});\n");
  const run = spawnSync(
    process.execPath,
    ['--test', '--test-reporter=tap', '--test-concurrency=1', 'a.test.mjs', 'b.test.mjs'],
    // Without NODE_TEST_CONTEXT: with it, the child reports to this runner instead of printing TAP.
    { cwd: dir, encoding: 'utf8', env: { ...process.env, NODE_TEST_CONTEXT: undefined } },
  );
  assert.equal(run.status, 1, run.stderr);
  return run.stdout;
}

describe("npm test's closing list of failing tests", () => {
  it("finds each failing leaf test in node's TAP, with its suites, file and error, whatever the chunking", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tap-failures-'));
    try {
      const tap = realTap(dir);
      const collector = new TapFailureCollector(dir);
      for (let i = 0; i < tap.length; i += 13) collector.push(tap.slice(i, i + 13));
      collector.end();
      const failures = collector.failures.map((f) => ({ ...f, location: f.location.replace(/:\d+$/, '') }));
      assert.deepEqual(failures, [
        {
          name: 'suite › inner › compares',
          location: 'a.test.mjs:6',
          error: ['one is not two', '1 !== 2', 'at TestContext.<anonymous> (a.test.mjs:6:35)'],
        },
        {
          name: 'rejects',
          location: 'a.test.mjs:9',
          error: ['late', 'second line', 'at TestContext.<anonymous> (a.test.mjs:9:35)'],
        },
      ]);
      assert.match(
        failureSummary(collector.failures, 'tests'),
        /^\[test\] 2 failing tests:\n {2}✖ suite › inner › compares \(a\.test\.mjs:6:/,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says nothing when nothing failed', () => {
    const collector = new TapFailureCollector('/x');
    collector.push('TAP version 13\n# Subtest: a\nok 1 - a\n  ---\n  duration_ms: 1\n  ...\n1..1\n');
    collector.end();
    assert.equal(failureSummary(collector.failures, 'tests'), '');
  });
});
