// Typed workflow starts: the gateway takes only a workflow type's own parameters
// (contracts/workflows.ts WorkflowSignatures). The @ts-expect-error lines are the test: `npm run
// typecheck` fails if a wrong parameter type ever compiles again.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { WorkflowType, type DeployParams } from '../../src/contracts/workflows';
import type { WorkflowGateway } from '../../src/region/services/workflow-gateway';
import { workflowsByType } from '../../src/workflows/index';

const ref = { systemId: 'abc123', hostname: 'node', rackQueue: 'rack:r1', deadlines: { nodeTimeoutMs: 60_000 } };
const deploy: DeployParams = { ...ref, distroSeries: 'bookworm', claimToken: 't' };

/** Never called: compiled only. */
export async function misuses(gateway: WorkflowGateway): Promise<void> {
  await gateway.start(WorkflowType.deploy, 'machine:abc123', deploy);
  // @ts-expect-error a release does not take a deploy's parameters
  await gateway.start(WorkflowType.release, 'machine:abc123', deploy);
  // @ts-expect-error a deploy needs its distro series
  await gateway.start(WorkflowType.deploy, 'machine:abc123', { ...ref, claimToken: 't' });
  // @ts-expect-error an abort needs the status it aborts
  await gateway.start(WorkflowType.abort, 'machine:abc123', ref);
  await gateway.start(WorkflowType.abort, 'machine:abc123', { ...ref, from: S.DEPLOYING });
  const power = await gateway.execute(WorkflowType.power, 'power:abc123', { ...ref, action: 'query' }, 1_000);
  // @ts-expect-error a power action answers a power state, not a lifecycle outcome
  power.status satisfies number;
}

describe('workflow signatures', () => {
  it('has one workflow in the bundle per workflow type, under its type name', () => {
    assert.deepEqual(Object.keys(workflowsByType).sort(), Object.values(WorkflowType).sort());
    for (const [name, fn] of Object.entries(workflowsByType)) assert.equal(fn.name, name);
  });
});
