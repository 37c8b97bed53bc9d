// A parameter an action does not declare is a 400 naming it, never dropped: the form layer's check.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../../../src/api/http/errors';
import * as field from '../../../src/api/http/form';
import { assertKnownParameters, unknownParameters } from '../../../src/api/http/known-params';
import { Params } from '../../../src/api/http/params';

const updateForm = field.form({
  hostname: field.text('The hostname.'),
  power_parameters_: field.prefixed('A power parameter.'),
  given: field.requestNames(),
});

const params = (query: Array<[string, string]>, body: Array<[string, string]> = [], files?: Map<string, Buffer>) =>
  new Params({ query, body, files });

function refusal(f: field.Form<unknown> | undefined, p: Params): unknown {
  try {
    assertKnownParameters(f, p, 'PUT (update)');
  } catch (e) {
    assert.ok(e instanceof ApiError);
    assert.equal(e.status, 400);
    assert.equal(e.contentType, 'application/json');
    return e.body;
  }
  return assert.fail('accepted');
}

describe('unknown parameters', () => {
  it('takes the declared names, op, and every name under a prefixed field', () => {
    const p = params(
      [['op', 'x']],
      [
        ['hostname', 'h'],
        ['power_parameters_power_address', '10.0.0.1'],
        ['op', 'y'],
      ],
    );
    assert.deepEqual(unknownParameters(updateForm, p), []);
    assert.doesNotThrow(() => assertKnownParameters(updateForm, p, 'PUT (update)'));
  });

  it('refuses each undeclared name, from the query or the body, in one 400 naming them all', () => {
    const p = params([['swap_size', '1G']], [['hostnme', 'typo']]);
    assert.deepEqual(refusal(updateForm, p), {
      swap_size: [
        "Unknown parameter: metalflow's PUT (update) does not take it (describe/ lists the parameters it takes).",
      ],
      hostnme: [
        "Unknown parameter: metalflow's PUT (update) does not take it (describe/ lists the parameters it takes).",
      ],
    });
  });

  it('does not take the bare prefix, nor the names a requestNames() field only looks at', () => {
    assert.deepEqual(unknownParameters(updateForm, params([], [['power_parameters_', 'x']])), ['power_parameters_']);
    assert.deepEqual(unknownParameters(updateForm, params([], [['given', 'x']])), ['given']);
  });

  it("takes any name for a form whose prefixed field is '' (workload annotations)", () => {
    const annotations = field.form({ '': field.prefixed('An annotation.') });
    assert.deepEqual(unknownParameters(annotations, params([], [['anything', 'v']])), []);
  });

  it('a rest field (script parameters) takes every name, and parses those the form does not declare', () => {
    const test = field.form({
      testing_scripts: field.list('Tests.'),
      parameters: field.rest('A script parameter.', { shownAs: '{script}_{parameter}', maxLength: 8 }),
    });
    const p = params(
      [['op', 'test']],
      [
        ['testing_scripts', 'fio'],
        ['fio_storage', 'sda'],
        ['parameters', '{}'],
      ],
    );
    assert.deepEqual(unknownParameters(test, p), []);
    assert.deepEqual(test.parse(p), {
      testing_scripts: ['fio'],
      // Its own name is a parameter like any other: the service refuses it unless a script declares it.
      parameters: { fio_storage: 'sda', parameters: '{}' },
    });
    assert.throws(() => test.parse(params([], [['fio_storage', 'x'.repeat(9)]])), ApiError);
    assert.match(field.formDocLines(test).join('\n'), /^:param \{script\}_\{parameter\}: Optional\. /m);
  });

  it('refuses every parameter but op for an action with no form', () => {
    assert.deepEqual(unknownParameters(undefined, params([['op', 'list']])), []);
    assert.deepEqual(Object.keys(refusal(undefined, params([['foo', '1']])) as object), ['foo']);
  });

  it('refuses a file upload even under a declared name (no field reads files), but takes a binary value part', () => {
    const upload = params([], [], new Map([['hostname', Buffer.from('h')]]));
    assert.deepEqual(refusal(updateForm, upload), {
      hostname: [
        'Unknown parameter: PUT (update) takes no file uploads; send it as a form field if describe/ lists it.',
      ],
    });
    // The CLI's `name@=path` part: bytes without a filename, readable as the value too.
    const binary = new Params({ body: [['hostname', 'h', 'bytes']], files: new Map([['hostname', Buffer.from('h')]]) });
    assert.deepEqual(unknownParameters(updateForm, binary), []);
  });
});
