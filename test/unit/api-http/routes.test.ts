// The rack API's routes are the contract's rackPaths: the templates come from the same functions
// the rack's client builds its requests with, so a path changed on one side changes on both.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rackPaths } from '../../../src/contracts/rack-api';
import { template } from '../../../src/api/http/routes';
import { PathMatcher } from '../../../src/api/http/path-match';

describe('route templates from shared path functions', () => {
  it('turns path functions into templates, encoded arguments included', () => {
    assert.equal(template(rackPaths.heartbeat, 'rack'), '/racks/{rack}/heartbeat');
    assert.equal(template(rackPaths.bootConfigByMac, 'rack', 'mac'), '/racks/{rack}/boot-config/{mac}');
    assert.equal(template(rackPaths.power, 'system_id'), '/machines/{system_id}/power');
  });

  it('matches what the client sends, decoding the MAC the client encoded', () => {
    const matcher = new PathMatcher([{ template: template(rackPaths.bootConfigByMac, 'rack', 'mac'), value: 1 }]);
    const m = matcher.match(rackPaths.bootConfigByMac('abc', '52:54:00:12:34:56'));
    assert.deepEqual(m?.params, { rack: 'abc', mac: '52:54:00:12:34:56' });
  });
});
