// What the pause watcher tells an operator: the BMC's last error, also when the pause itself
// interrupted a running attempt (its failure is then the SDK's "Activity paused", and the BMC's
// error comes from the heartbeat details the rack carried over from the attempt before).
import { defaultPayloadConverter } from '@temporalio/common';
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pausedMessage } from '../../../src/region/power-pause-watcher';
import { bmcErrorOf } from '../../../src/region/temporal/paused-power-steps';

const heartbeat = (details: unknown) => ({ payloads: [defaultPayloadConverter.toPayload(details)] });

describe('paused power steps', () => {
  it("the last attempt's failure is the BMC's error", () => {
    const a = { lastFailure: { message: 'ipmi power on m1: no answer', applicationFailureInfo: { type: 'X' } } };
    assert.equal(bmcErrorOf(a), 'ipmi power on m1: no answer');
  });

  it('a pause that interrupted an attempt: the error carried in the heartbeat details', () => {
    const a = {
      lastFailure: { message: 'Activity paused', applicationFailureInfo: { type: 'ActivityPause' } },
      heartbeatDetails: heartbeat({ step: 'power on m1', lastBmcError: 'ipmi power on m1: no answer' }),
    };
    assert.equal(bmcErrorOf(a), 'ipmi power on m1: no answer');
    assert.equal(bmcErrorOf({ ...a, heartbeatDetails: heartbeat('power on m1') }), '');
    assert.equal(bmcErrorOf({}), '');
  });

  it("the status_message names the action, the pause and the BMC's error", () => {
    assert.equal(
      pausedMessage({ activityType: 'powerOn', bmcError: 'HTTP 503: busy' }),
      'Power on paused by an operator in Temporal; BMC: HTTP 503: busy',
    );
    assert.equal(
      pausedMessage({ activityType: 'powerOff', bmcError: '' }),
      'Power off paused by an operator in Temporal',
    );
  });
});
