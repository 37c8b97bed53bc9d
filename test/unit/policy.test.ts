// The policy answers from principals and facts alone: no HTTP, no database.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorize,
  decide,
  decideMachine,
  machineVerbOf,
  MACHINE_TOKEN_DENIED,
  type MachineFacts,
} from '../../src/region/policy';
import { deviceRule, ipRangeRule } from '../../src/region/policy/rules';
import { ForbiddenError } from '../../src/region/errors';
import type { Machine, User } from '../../src/region/db/entities';
import type { Principal } from '../../src/region/services/principal';

const user = (id: number, isSuperuser = false): Principal => ({
  kind: 'user',
  user: { id, username: `u${id}`, isSuperuser } as User,
});
const admin = user(1, true);
const alice = user(2);
const bob = user(3);
const machineToken: Principal = { kind: 'machine', machine: { id: 9 } as Machine };

const facts = (o: Partial<MachineFacts> = {}): MachineFacts => ({
  systemId: 'abc123',
  ownerId: null,
  controller: false,
  administersPool: false,
  ...o,
});

describe('policy: collection rules', () => {
  it('users read, admins change; machine tokens are refused everywhere', () => {
    assert.equal(decide(alice, { object: 'zone', verb: 'read' }), null);
    assert.equal(decide(admin, { object: 'zone', verb: 'create' }), null);
    assert.equal(
      decide(alice, { object: 'zone', verb: 'create' }),
      'You do not have permission to do this: admin only.',
    );
    assert.equal(decide(machineToken, { object: 'zone', verb: 'read' }), MACHINE_TOKEN_DENIED);
    assert.equal(decide(machineToken, { object: 'sshkey', verb: 'create' }), MACHINE_TOKEN_DENIED);
  });

  it("machine creation by a user names what was refused, as MAAS's handler does", () => {
    assert.equal(
      decide(alice, { object: 'machine', verb: 'create' }),
      'You do not have permission to create machines.',
    );
    assert.equal(decide(admin, { object: 'machine', verb: 'create' }), null);
  });

  it('authorize throws the domain ForbiddenError (403) with the rule’s message', () => {
    assert.throws(() => authorize(alice, { object: 'placement-rule', verb: 'read' }), ForbiddenError);
    assert.doesNotThrow(() => authorize(alice, { object: 'token', verb: 'create' }));
  });
});

describe('policy: one machine', () => {
  it('the owner operates what they hold, but does not commission, fix or edit it', () => {
    const owned = facts({ ownerId: 2 });
    for (const verb of ['deploy', 'release', 'abort', 'mark-broken', 'lock', 'unlock', 'power'] as const)
      assert.equal(decideMachine(alice, verb, owned), null, verb);
    for (const verb of ['commission', 'mark-fixed', 'edit', 'reserve'] as const)
      assert.match(decideMachine(alice, verb, owned) ?? '', /You do not have permission to/, verb);
    assert.equal(decideMachine(bob, 'deploy', owned), 'You do not have permission to deploy machine abc123.');
  });

  it('pool admins administer their pools’ machines whoever owns them, controllers excepted', () => {
    assert.equal(decideMachine(bob, 'commission', facts({ ownerId: 2, administersPool: true })), null);
    assert.equal(decideMachine(bob, 'release', facts({ ownerId: 2, administersPool: true })), null);
    assert.notEqual(decideMachine(bob, 'commission', facts({ administersPool: true, controller: true })), null);
    assert.equal(decideMachine(admin, 'commission', facts({ controller: true })), null);
  });

  it("storage: the owner edits what they hold (format, mount, partitions); layouts, VGs and RAIDs are admins'", () => {
    const owned = facts({ ownerId: 2 });
    assert.equal(decideMachine(alice, 'edit-storage', owned), null);
    assert.notEqual(decideMachine(alice, 'configure-storage', owned), null);
    assert.notEqual(decideMachine(bob, 'edit-storage', owned), null);
    assert.equal(decideMachine(bob, 'configure-storage', facts({ administersPool: true })), null);
    assert.equal(decideMachine(admin, 'configure-storage', facts()), null);
  });

  it('power settings and parameters stay with admins; tokens and annotations with owner and admins', () => {
    const poolAdmin = facts({ administersPool: true });
    assert.equal(decideMachine(bob, 'edit-power', poolAdmin), 'Only admins can change power settings.');
    assert.equal(decideMachine(bob, 'read-power-parameters', poolAdmin), 'Power parameters are shown to admins only.');
    assert.equal(decideMachine(alice, 'read-token', facts({ ownerId: 2 })), null);
    assert.notEqual(decideMachine(bob, 'read-token', poolAdmin), null);
    assert.equal(decideMachine(admin, 'annotate', facts()), null);
  });

  it('names the operation in the denial as services call it', () => {
    assert.equal(machineVerbOf('power on'), 'power');
    assert.equal(machineVerbOf('mark broken'), 'mark-broken');
    assert.equal(
      decideMachine(bob, machineVerbOf('power on'), facts(), 'power on'),
      'You do not have permission to power on machine abc123.',
    );
    assert.throws(() => machineVerbOf('frobnicate'));
  });
});

describe('policy: IP ranges', () => {
  it('users change only their own reserved ranges and never make them dynamic', () => {
    assert.equal(ipRangeRule(alice, { userId: 2, type: 'reserved' }), null);
    assert.notEqual(ipRangeRule(alice, { userId: 3, type: 'reserved' }), null);
    assert.notEqual(ipRangeRule(alice, { userId: 2, type: 'dynamic' }), null);
    assert.notEqual(ipRangeRule(alice, { userId: 2, type: 'reserved' }, 'dynamic'), null);
    assert.equal(ipRangeRule(alice, null, 'reserved'), null);
    assert.equal(ipRangeRule(alice, null, 'dynamic'), 'Only administrators can create dynamic IP ranges.');
    assert.equal(ipRangeRule(admin, { userId: 3, type: 'dynamic' }, 'dynamic'), null);
  });
});

describe('policy: devices', () => {
  it("the device's effective owner and admins change it; others and machine tokens do not", () => {
    const device = { systemId: 'dev123', ownerId: 2 };
    assert.equal(deviceRule(alice, device), null);
    assert.equal(deviceRule(admin, device), null);
    assert.equal(deviceRule(bob, device), 'You do not have permission to change device dev123.');
    assert.equal(deviceRule(bob, { ...device, ownerId: null }), 'You do not have permission to change device dev123.');
    assert.equal(deviceRule(machineToken, device), MACHINE_TOKEN_DENIED);
    assert.equal(decide(machineToken, { object: 'device', verb: 'read' }), MACHINE_TOKEN_DENIED);
    assert.equal(decide(alice, { object: 'device', verb: 'create' }), null);
  });
});
