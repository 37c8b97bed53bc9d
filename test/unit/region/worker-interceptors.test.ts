// The region worker's workflow source and interceptors (issue 21 review): the real region always
// has metrics and bundles its workflows on start, and must keep the activity summaries' workflow
// interceptor module beside the outcome counter (a second `interceptors` spread once dropped it).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { RegionMetrics } from '../../../src/region/metrics';
import { WORKFLOW_INTERCEPTOR_MODULES, WORKFLOWS_PATH, workflowSource } from '../../../src/region/worker';

const metrics = { metrics: new RegionMetrics(), log: () => {} };

describe('region worker interceptors', () => {
  it('bundled on start with metrics (the real region): the operator-view module and the outcome counter both', () => {
    const o = workflowSource({ metrics });
    assert.equal(o.workflowsPath, WORKFLOWS_PATH);
    assert.ok(WORKFLOW_INTERCEPTOR_MODULES.some((m) => /workflows[/\\]operator-view/.test(m)));
    assert.deepEqual(o.interceptors?.workflowModules, WORKFLOW_INTERCEPTOR_MODULES);
    assert.equal(o.interceptors?.activity?.length, 1);
  });

  it('bundled on start without metrics: the operator-view module, no activity interceptor', () => {
    const o = workflowSource({});
    assert.deepEqual(o.interceptors?.workflowModules, WORKFLOW_INTERCEPTOR_MODULES);
    assert.deepEqual(o.interceptors?.activity, []);
  });

  it('a pre-built bundle (tests) carries its modules: none passed again, the counter kept', () => {
    const bundle = { code: '', sourceMap: '' } as WorkflowBundleWithSourceMap;
    const o = workflowSource({ workflowBundle: bundle, metrics });
    assert.equal(o.workflowBundle, bundle);
    assert.equal(o.workflowsPath, undefined);
    assert.deepEqual(o.interceptors?.workflowModules, []);
    assert.equal(o.interceptors?.activity?.length, 1);
  });
});
