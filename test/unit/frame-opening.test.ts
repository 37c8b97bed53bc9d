import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Opening } from '../../src/workflows/frame-opening';
import type { NextEvent } from '../../src/workflows/frame-plan';

/** The frame's numbering: each event the next of the run, its type the operation's unless given. */
function numbering(): NextEvent {
  let n = 0;
  return (description, level, type = 'Commissioning') => ({
    type,
    description,
    level,
    dedupeKey: `wf/run/${++n}/${type}`,
  });
}
const opening = { purpose: 'commissioning', announce: 'Powering on to commission.' } as const;

describe("a runbook's opening netboot, announced with the claim (lean-open)", () => {
  it('carries the announcements its power step would record, numbered first, and the boot purpose', () => {
    const claim = new Opening().claimWith(opening, 'node-1', numbering());
    assert.deepEqual(claim, {
      events: [
        {
          type: 'Commissioning',
          description: 'Powering on to commission.',
          level: 'INFO',
          dedupeKey: 'wf/run/1/Commissioning',
        },
        {
          type: 'Powering on',
          description: 'Powering on node-1, next boot from the network.',
          level: 'INFO',
          dedupeKey: 'wf/run/2/Powering on',
        },
      ],
      netboot: { purpose: 'commissioning' },
    });
    const erase = new Opening().claimWith({ ...opening, erase: 'quick' }, 'node-1', numbering());
    assert.deepEqual(erase.netboot, { purpose: 'commissioning', erase: 'quick' });
  });

  it('lets the matching power-on skip its own announcements once; later power steps announce their own', () => {
    const o = new Opening();
    assert.equal(
      o.take('on', 'Powering on to commission.', { purpose: 'commissioning' }),
      false,
      'nothing announced yet',
    );
    o.claimWith(opening, 'node-1', numbering());
    assert.equal(o.take('on', 'Powering on to commission.', { purpose: 'commissioning' }), true);
    assert.equal(o.take('on', 'Powering on to commission.', { purpose: 'commissioning' }), false);
    assert.equal(o.take('off', undefined, undefined), false);
  });

  it('lets a stop before the opening power-on (a cancel during the claim) power off with its own announcements', () => {
    const o = new Opening();
    o.claimWith(opening, 'node-1', numbering());
    o.forget();
    assert.equal(o.take('off', undefined, undefined), false);
  });

  it('refuses a first power step that is not the opening its plan names (a workflow bug, not a silent skip)', () => {
    for (const [action, announce, netboot] of [
      ['off', undefined, undefined],
      ['on', 'Powering on to test.', { purpose: 'commissioning' }],
      ['on', 'Powering on to commission.', { purpose: 'xinstall' }],
      ['on', 'Powering on to commission.', { purpose: 'commissioning', erase: 'quick' }],
      ['on', 'Powering on to commission.', undefined],
    ] as const) {
      const o = new Opening();
      o.claimWith(opening, 'node-1', numbering());
      assert.throws(() => o.take(action, announce, netboot), /not the opening netboot its plan names/);
    }
  });
});
