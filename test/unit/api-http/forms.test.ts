// Every MAAS action's form is its describe/ doc: the `:param` lines are the parameters its form
// reads, no more and no fewer, and every action declares who may call it.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { apiResources } from '../../../src/api/app';
import { describeApi } from '../../../src/api/http/describe';
import * as field from '../../../src/api/http/form';
import { actionDoc, form, type Form } from '../../../src/api/http/form';
import { Params } from '../../../src/api/http/params';
import type { Action, Resource } from '../../../src/api/http/resource';
import type { RegionServices } from '../../../src/region/services';
import type { Principal } from '../../../src/region/services/principal';

/** Declarations only: no handler runs, so the services are never called. */
const unused: unknown = new Proxy(() => unused, { get: () => unused, apply: () => unused });
const services = unused as RegionServices;
const present = { temporalUiUrl: null, temporalNamespace: 'test' };

function registry(): Array<Resource<Principal>> {
  return apiResources(services, present);
}

/** Params that record every name read and hold no values. */
class RecordingParams extends Params {
  readonly read = new Set<string>();
  override get(name: string) {
    this.read.add(name);
    return undefined;
  }
  override getAll(name: string) {
    this.read.add(name);
    return [];
  }
  override has(name: string) {
    this.read.add(name);
    return false;
  }
  override names() {
    this.read.add('*');
    return [];
  }
}

/** The names each field of a form reads from the request, field by field. */
function namesRead(f: Form<unknown>): Set<string> {
  const names = new Set<string>();
  for (const [name, spec] of Object.entries(f.fields)) {
    if (spec.undocumented) continue; // a fact about the request (e.g. its names), not a parameter
    const params = new RecordingParams();
    try {
      spec.read(params, name);
    } catch {
      // A required field refuses the empty request after reading it; what it read is recorded.
    }
    for (const n of params.read)
      names.add(n === '*' && spec.rest ? spec.rest : n === '*' && spec.prefixed ? `${name}{key}` : n);
  }
  return names;
}

/** The `:param` names of an action's doc, and whether each has its `:type`. */
function documented(doc: string): Set<string> {
  const params = [...doc.matchAll(/^:param ([^:]+): /gm)].map((m) => m[1]!);
  for (const p of params) assert.match(doc, new RegExp(`^:type ${p.replace(/[{}]/g, '\\$&')}: \\w+$`, 'm'));
  return new Set(params);
}

function assertFormMatchesDoc(label: string, action: Action<Principal>, doc: string): void {
  const read = action.form ? namesRead(action.form) : new Set<string>();
  assert.deepEqual(
    [...documented(doc)].sort(),
    [...read].sort(),
    `${label}: the doc's :param lines differ from its form`,
  );
}

describe("actions' forms and docs", () => {
  const resources = registry();
  const description = describeApi(resources, '/MAAS/api/2.0');

  it('every action declares its access rule, or is anonymous', () => {
    for (const r of resources)
      for (const a of r.actions)
        assert.ok(a.access || a.anonymous, `${r.name} ${a.method} ${a.op ?? ''}: no access rule`);
  });

  it("describe/ lists exactly the parameters each action's form reads, with their types", () => {
    let checked = 0;
    for (const r of resources) {
      const handler =
        description.resources.find((d) => d.name === r.name)!.auth ??
        description.resources.find((d) => d.name === r.name)!.anon!;
      for (const a of r.actions) {
        const described = handler.actions.find((d) => d.method === a.method && d.op === (a.op ?? null))!;
        assertFormMatchesDoc(`${r.name} ${a.method} ${a.op ?? ''}`, a, described.doc);
        if (a.form) checked++;
      }
    }
    assert.ok(checked > 40, `only ${checked} forms checked`);
  });

  it("names machine deploy's parameters the way the maas CLI reads them", () => {
    const machine = description.resources.find((d) => d.name === 'MachineHandler')!.auth!;
    const deploy = machine.actions.find((a) => a.name === 'deploy')!;
    assert.match(deploy.doc, /^:param distro_series: Optional\. /m);
    assert.match(deploy.doc, /^:type distro_series: String$/m);
    assert.match(deploy.doc, /^:type ephemeral_deploy: Boolean$/m);
  });

  it('fails for a form that reads a parameter it does not declare', () => {
    const sneaky = form({
      name: { ...field.text('The name.'), read: (p: Params) => p.string('hostname') },
    });
    const action: Action<Principal> = { method: 'POST', doc: 'x', form: sneaky, handle: async () => null };
    assert.throws(() => assertFormMatchesDoc('sneaky', action, actionDoc('x', sneaky)), /differ from its form/);
  });

  it('parses what it declares, caps included, and nothing else', () => {
    const f = form(
      { name: field.text('n', { maxLength: 3 }), count: field.int('c', { min: 1 }), on: field.bool('b') },
      (v) => v,
    );
    assert.deepEqual(f.parse(Params.of({ name: 'abc', count: '2', on: 'true', other: 'x' })), {
      name: 'abc',
      count: 2,
      on: true,
    });
    assert.throws(() => f.parse(Params.of({ name: 'abcd' })), /at most 3 characters/);
    assert.throws(() => f.parse(Params.of({ count: '0' })), /greater than or equal to 1/);
  });
});
