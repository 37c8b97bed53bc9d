// Hardware testing's statuses (issue 20): where passing tests return a machine (MAAS's
// _process_testing), and the netboot a TESTING machine gets (the commissioning environment, with
// its token, which runs the testing set).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LIFECYCLE, MachineStatus as S, testingReturnsTo } from '../../src/contracts/lifecycle';
import { servedBoot } from '../../src/region/services/boot-phase';

describe('hardware testing in the lifecycle', () => {
  it('returns a tested machine where MAAS does: READY from broken or failed, NEW from failed commissioning, else where it was', () => {
    assert.equal(testingReturnsTo(S.READY), S.READY);
    assert.equal(testingReturnsTo(S.ALLOCATED), S.ALLOCATED);
    assert.equal(testingReturnsTo(S.RESERVED), S.RESERVED);
    assert.equal(testingReturnsTo(S.BROKEN), S.READY);
    assert.equal(testingReturnsTo(S.FAILED_TESTING), S.READY);
    assert.equal(testingReturnsTo(S.FAILED_DEPLOYMENT), S.READY);
    assert.equal(testingReturnsTo(S.FAILED_COMMISSIONING), S.NEW);
    for (const from of LIFECYCLE.test.startFrom)
      assert.ok(
        (LIFECYCLE.test.succeedTo as readonly S[]).includes(testingReturnsTo(from)),
        `${from}: ${testingReturnsTo(from)} is not in succeedTo`,
      );
  });

  it('does not test a deployed machine (its netboot would take the workload down)', () => {
    assert.ok(!(LIFECYCLE.test.startFrom as readonly S[]).includes(S.DEPLOYED));
  });

  it('netboots a TESTING machine into the commissioning environment with its credentials', () => {
    assert.deepEqual(servedBoot(S.TESTING, 'commissioning', ''), { purpose: 'commissioning', credentials: true });
    assert.deepEqual(servedBoot(S.READY, 'commissioning', ''), { purpose: 'poweroff', credentials: false });
  });
});
