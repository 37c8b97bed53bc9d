// What an operator reads in Temporal: the workflows' static summary/details and the activities'
// one-line summaries (contracts/operator-view.ts), from the params the region starts them with.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MachineStatus as S } from '../../src/contracts/lifecycle';
import { describeWorkflow, operationOfType, summarizeActivity } from '../../src/contracts/operator-view';
import { WorkflowType } from '../../src/contracts/workflows';
import type { Machine } from '../../src/region/db/entities';
import { displayedAddress, operatorRef } from '../../src/region/services/operator-ref';

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
    // The closing power-off's outcome recorded with the run's (lean-close).
    assert.equal(
      summarizeActivity(
        'finishTransition',
        { to: S.READY, message: '', powerOutcome: { state: 'off', events: [] } },
        ref,
      ),
      'Record power state off; record status Ready',
    );
    assert.equal(
      summarizeActivity('beginTransition', { to: S.DEPLOYING }, ref),
      'Claim node-3, record status Deploying',
    );
  });

  it("the local activities' database steps say what they write", () => {
    const events = [{ description: 'Powering on to commission.' }, { description: 'Powering on node-3.' }];
    assert.equal(
      summarizeActivity('recordEvents', { systemId: 'abc123', events }, ref),
      'Record events: Powering on to commission.; Powering on node-3.',
    );
    assert.equal(
      summarizeActivity(
        'recordEvents',
        { systemId: 'abc123', events, netboot: { purpose: 'commissioning', erase: 'quick' } },
        ref,
      ),
      'Set the next netboot of node-3 to commissioning (erase quick); record events: Powering on to commission.; Powering on n…',
    );
    assert.equal(
      summarizeActivity('recordPowerOutcome', { systemId: 'abc123', state: 'on', events: [] }, ref),
      'Record power state on',
    );
    assert.equal(summarizeActivity('lastReportAge', { systemId: 'abc123' }, ref), 'Read when node-3 last reported');
  });

  it('a summary stays one short line', () => {
    const long = summarizeActivity('recordEvent', { type: 'Deploying', description: 'x'.repeat(500) }, ref);
    assert.equal(long.length, 120);
    assert.ok(long.endsWith('…'));
  });
});

describe('the BMC address Temporal shows', () => {
  it('a URL keeps host[:port][/path]: no userinfo, query string or fragment', () => {
    assert.equal(
      displayedAddress('https://admin:s3cret@bmc.example:8443/redfish/v1?token=abc#frag'),
      'bmc.example:8443/redfish/v1',
    );
    assert.equal(displayedAddress('http://user@10.0.0.5/'), '10.0.0.5');
    assert.equal(displayedAddress('https://[fd00::5]:8000?x=1'), '[fd00::5]:8000');
    assert.equal(displayedAddress('https://'), undefined);
  });

  it('a plain address stays as it is; stray userinfo, query or fragment go', () => {
    for (const a of ['10.0.0.5', '10.0.0.5:623', '[fd00::5]:623', 'fd00::5', 'bmc-3.example'])
      assert.equal(displayedAddress(a), a);
    assert.equal(displayedAddress(' admin:pw@10.0.0.5:623?k=v#f '), '10.0.0.5:623');
    assert.equal(displayedAddress('?only'), undefined);
  });

  it('the workflow details and activity summaries built from a machine carry no secret of its address', async () => {
    const machine = {
      ownerId: null,
      powerType: 'redfish',
      powerParameters: {
        power_address: 'https://admin:s3cret@bmc.example/redfish/v1?token=t0k3n#frag',
        power_pass: 'x',
      },
    } as unknown as Machine;
    const power = (await operatorRef({} as never, machine)).power;
    assert.deepEqual(power, { type: 'redfish', address: 'bmc.example/redfish/v1' });
    const params = { ...ref, power: power! };
    const shown = [
      describeWorkflow(WorkflowType.commission, params).details,
      summarizeActivity('powerOn', { systemId: 'abc123' }, params),
    ].join('\n');
    for (const secret of ['admin', 's3cret', 'token', 't0k3n', 'frag']) assert.ok(!shown.includes(secret), shown);
    assert.match(shown, /bmc\.example\/redfish\/v1/);
  });
});
