// What an operator reads in Temporal: the workflows' static summary/details and the activities'
// one-line summaries (contracts/operator-view.ts), from the params the region starts them with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { describeWorkflow, operationOfType, summarizeActivity } from '../../src/contracts/operator-view';
import { WorkflowType } from '../../src/contracts/workflows';

const ref = {
  systemId: 'abc123',
  hostname: 'node-3',
  rackQueue: 'rack:r1',
  deadlines: { nodeTimeoutMs: 60_000 },
  owner: 'alice',
  power: { type: 'ipmi', address: '10.0.0.5' },
};

describe('workflow summaries and details', () => {
  it('deploy names the image and the machine, and details list operation, hostname, system_id, owner, image', () => {
    const d = describeWorkflow(WorkflowType.deploy, { ...ref, distroSeries: 'bookworm', claimToken: 't' });
    assert.equal(d.summary, 'Deploy bookworm to node-3');
    assert.deepEqual(d.details.split('\n'), [
      '**operation**: deploy',
      '**hostname**: node-3',
      '**system_id**: abc123',
      '**owner**: alice',
      '**image**: bookworm',
      '**power**: ipmi 10.0.0.5',
    ]);
  });

  it('each operation has its own summary', () => {
    assert.equal(describeWorkflow(WorkflowType.commission, ref).summary, 'Commission node-3');
    const release = { ...ref, erase: true, secureErase: true, quickErase: true };
    assert.equal(
      describeWorkflow(WorkflowType.release, release).summary,
      'Release node-3, erasing its disks (secure,quick)',
    );
    assert.equal(
      describeWorkflow(WorkflowType.abort, { ...ref, from: S.DEPLOYING }).summary,
      'Abort deploying of node-3',
    );
    assert.equal(
      describeWorkflow(WorkflowType.power, { ...ref, action: 'on' }).summary,
      'Power on node-3 via IPMI 10.0.0.5',
    );
    assert.equal(describeWorkflow(WorkflowType.enlist, ref).summary, 'Enlist node-3');
    assert.equal(describeWorkflow(WorkflowType.registerDeployed, ref).summary, 'Register node-3 as already deployed');
  });

  it('an unowned machine has no owner line', () => {
    const { owner: _owner, ...unowned } = ref;
    assert.ok(!describeWorkflow(WorkflowType.commission, unowned).details.includes('owner'));
  });

  it('every workflow type has an Operation value', () => {
    for (const type of Object.values(WorkflowType)) assert.ok(operationOfType(type), type);
    assert.equal(operationOfType('somethingElse'), undefined);
  });
});

describe('activity summaries', () => {
  it('power steps name the driver and the BMC address from the params', () => {
    assert.equal(summarizeActivity('powerOn', { systemId: 'abc123' }, ref), 'Power on node-3 via IPMI 10.0.0.5');
    assert.equal(
      summarizeActivity('queryPower', { systemId: 'abc123' }, ref),
      'Query the power of node-3 via IPMI 10.0.0.5',
    );
  });

  it('params from before the power reference give a summary without it', () => {
    assert.equal(summarizeActivity('powerOff', { systemId: 'abc123' }, { hostname: 'node-3' }), 'Power off node-3');
    assert.equal(summarizeActivity('powerOff', { systemId: 'abc123' }, undefined), 'Power off abc123');
  });

  it('status changes say the status', () => {
    assert.equal(summarizeActivity('finishTransition', { to: S.DEPLOYED, message: '' }, ref), 'Record status Deployed');
    assert.equal(
      summarizeActivity('beginTransition', { to: S.DEPLOYING }, ref),
      'Claim node-3, record status Deploying',
    );
  });

  it('a summary stays one short line', () => {
    const long = summarizeActivity('recordEvent', { type: 'Deploying', description: 'x'.repeat(500) }, ref);
    assert.equal(long.length, 120);
    assert.ok(long.endsWith('…'));
  });
});
