// Workflows started by an earlier version of the workflow code carry on with this one: their
// histories (recorded by test/fixtures/histories/record.ts from that version) replay without a
// nondeterminism error. This is what lets a region be upgraded while machines are commissioning,
// deploying or releasing.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { temporal } from '@temporalio/proto';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from '../helpers/infra';

const DIR = path.resolve(__dirname, '..', 'fixtures', 'histories');
const histories = fs.readdirSync(DIR).filter((f) => f.endsWith('.history.pb'));

describe('replaying histories of earlier workflow code', () => {
  for (const kind of ['commission', 'deploy', 'release', 'test']) {
    it(`has recorded ${kind} histories to replay`, () =>
      assert.ok(
        histories.some((f) => f.startsWith(`${kind}-`)),
        histories.join(', '),
      ));
  }
  for (const file of histories) {
    it(`replays ${file}`, async () => {
      const history = temporal.api.history.v1.History.decode(fs.readFileSync(path.join(DIR, file)));
      await Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, `replay-${file}`);
    });
  }
});
