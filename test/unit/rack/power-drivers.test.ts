import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PowerConfig } from '../../../src/contracts/rack-api';
import { PowerError } from '../../../src/rack/power/driver';
import { ManualPowerDriver } from '../../../src/rack/power/manual';
import { IpmiPowerDriver } from '../../../src/rack/power/ipmi';
import { RedfishPowerDriver } from '../../../src/rack/power/redfish';
import { createPowerRegistry } from '../../../src/rack/power/registry';
import { WebhookPowerDriver } from '../../../src/rack/power/webhook';

const cfg = (powerType: string): PowerConfig => ({ systemId: 'abc123', powerType, parameters: {} });

describe('power drivers of the rack', () => {
  it('ipmi, redfish and webhook are the real drivers (tested against real peers in test/integration/power-*)', () => {
    const registry = createPowerRegistry(() => undefined);
    assert.ok(registry.get('ipmi') instanceof IpmiPowerDriver);
    assert.ok(registry.get('redfish') instanceof RedfishPowerDriver);
    assert.ok(registry.get('webhook') instanceof WebhookPowerDriver);
  });

  it('an unknown power type is a fatal configuration error', () => {
    assert.throws(
      () => createPowerRegistry(() => undefined).get('virsh'),
      (err: unknown) => err instanceof PowerError && !err.retryable && /virsh/.test(err.message),
    );
  });

  it('manual: not queryable, logs what the operator must do', async () => {
    const lines: string[] = [];
    const manual = new ManualPowerDriver((l) => lines.push(l));
    assert.equal(manual.queryable, false);
    assert.equal(await manual.query(), 'unknown');
    assert.equal(await manual.on(cfg('manual')), 'unknown');
    assert.equal(await manual.off(cfg('manual')), 'unknown');
    assert.equal(lines.length, 2);
    assert.match(lines[0]!, /abc123.*powered on by hand/);
  });
});
