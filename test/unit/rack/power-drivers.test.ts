import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PowerConfig } from '../../../src/contracts/rack-api';
import { PowerError } from '../../../src/rack/power/driver';
import { ManualPowerDriver } from '../../../src/rack/power/manual';
import { createPowerRegistry } from '../../../src/rack/power/registry';

const cfg = (powerType: string): PowerConfig => ({ systemId: 'abc123', powerType, parameters: {} });
const never = new AbortController().signal;

describe('power drivers of the fake rack', () => {
  for (const type of ['ipmi', 'redfish', 'webhook']) {
    it(`${type}: every action fails fatally, saying the driver is not there yet`, async () => {
      const driver = createPowerRegistry(() => undefined).get(type);
      for (const action of [driver.on, driver.off, driver.cycle, driver.query] as const) {
        await assert.rejects(action.call(driver, cfg(type), never), (err: unknown) => {
          assert.ok(err instanceof PowerError);
          assert.equal(err.retryable, false);
          assert.equal(err.message, `The ${type} power driver is not available on this rack yet (metalflow fake rack).`);
          return true;
        });
      }
    });
  }

  it('an unknown power type is a fatal configuration error', () => {
    assert.throws(() => createPowerRegistry(() => undefined).get('virsh'), (err: unknown) => err instanceof PowerError && !err.retryable && /virsh/.test(err.message));
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
