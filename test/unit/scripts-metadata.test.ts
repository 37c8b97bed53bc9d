// Issue 20's pure pieces: MAAS's embedded script metadata (ScriptForm's rules and wording), a
// set's status from its results (get_status_from_qs), the ustar writer and XPath tag definitions.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../src/region/errors';
import { overallStatus, SCRIPT_STATUS as S } from '../../src/region/services/scripts/script-enums';
import { defineScript } from '../../src/region/services/scripts/script-metadata';
import { tarArchive } from '../../src/region/services/scripts/tar';
import { checkDefinition, definitionMatches, parseDetails } from '../../src/region/services/tag-definitions';

const withYaml = (yaml: string) =>
  Buffer.from(
    `#!/bin/bash\n# --- Start MAAS 1.0 script metadata ---\n${yaml
      .split('\n')
      .map((l) => `#   ${l}`)
      .join('\n')}\n# --- End MAAS 1.0 script metadata ---\nexit 0\n`,
  );
const errorsOf = (f: () => unknown): Record<string, string[]> => {
  try {
    f();
  } catch (e) {
    assert.ok(e instanceof ValidationError);
    return e.fields;
  }
  assert.fail('expected a ValidationError');
};

describe('script metadata (MAAS ScriptForm)', () => {
  it('reads the embedded YAML; explicit tags and timeout win, other explicit values must agree', () => {
    const yaml = withYaml(
      'name: disk-check\ntitle: Disk\nscript_type: testing\nhardware_type: storage\nparallel: any\ntimeout: 00:10:00\ndestructive: true\ntags: [a, b]\nparameters: {storage: {type: storage}}\npackages: {apt: []}\nfor_hardware: [pci:8086:1234]',
    );
    const { definition: d } = defineScript({ script: yaml, tags: 'x,y', timeout: '30' }, undefined);
    assert.equal(d.name, 'disk-check');
    assert.equal(d.scriptType, 2);
    assert.equal(d.hardwareType, 3);
    assert.equal(d.parallel, 2);
    assert.equal(d.destructive, true);
    assert.deepEqual(d.tags, ['x', 'y']);
    assert.equal(d.timeoutSeconds, 30);
    assert.deepEqual(d.parameters, { storage: { type: 'storage' } });
    assert.deepEqual(d.packages, { apt: [] });
    assert.deepEqual(d.forHardware, ['pci:8086:1234']);
    assert.equal(defineScript({ script: yaml }, undefined).definition.timeoutSeconds, 600);
    assert.deepEqual(
      errorsOf(() => defineScript({ script: yaml, type: 'commissioning' }, undefined)),
      {
        script_type: ['May not override values defined in embedded YAML.'],
      },
    );
    assert.equal(defineScript({ script: yaml, type: 'test' }, undefined).definition.scriptType, 2, 'same type');
  });

  it('refuses a script that declares packages to install (the environment cannot install any)', () => {
    for (const packages of ['{apt: [fio]}', '{snap: stress-ng}', '{url: [http://example.com/x.tar]}']) {
      const fields = errorsOf(() =>
        defineScript(
          { script: withYaml(`name: needs-packages\nscript_type: testing\npackages: ${packages}`) },
          undefined,
        ),
      );
      assert.match(fields.packages![0]!, /^Installing packages is not supported: /, packages);
    }
    const script = Buffer.from('#!/bin/sh\n');
    assert.ok(errorsOf(() => defineScript({ name: 'p', script, packages: '{"apt": ["fio"]}' }, undefined)).packages);
    assert.deepEqual(defineScript({ name: 'p', script, packages: '{}' }, undefined).definition.packages, {});
  });

  it("refuses what MAAS refuses, with MAAS's words", () => {
    assert.match(
      errorsOf(() => defineScript({ script: withYaml('name: [x') }, undefined)).script![0]!,
      /^Invalid YAML: /,
    );
    assert.deepEqual(
      errorsOf(() => defineScript({ name: 'none', script: Buffer.from('#!/bin/sh\n') }, undefined)),
      {
        name: ['"none" is a reserved name.'],
      },
    );
    assert.deepEqual(
      errorsOf(() => defineScript({ name: 'x', comment: 'c' }, undefined)),
      {
        script: ['This field is required.'],
        comment: ['"comment" may only be used when specifying a "script" as well.'],
      },
    );
    const builtin = defineScript({ name: 'b', script: Buffer.from('#!/bin/sh\n') }, undefined).definition;
    assert.deepEqual(
      errorsOf(() => defineScript({ title: 't' }, builtin, true)),
      {
        title: ['Not allowed to change on default scripts.'],
      },
    );
    assert.equal(defineScript({ timeout: '1:00:00' }, builtin, true).definition.timeoutSeconds, 3600);
    assert.ok(errorsOf(() => defineScript({ timeout: 'soon' }, builtin, true)).timeout);
  });
});

describe('script set status (get_status_from_qs)', () => {
  it("follows MAAS's precedence", () => {
    assert.equal(overallStatus([]), -1);
    assert.equal(overallStatus([S.PASSED, S.SKIPPED]), S.PASSED);
    assert.equal(overallStatus([S.PASSED, S.TIMEDOUT]), S.FAILED);
    assert.equal(overallStatus([S.FAILED, S.PENDING]), S.PENDING);
    assert.equal(overallStatus([S.INSTALLING, S.FAILED]), S.RUNNING);
    assert.equal(overallStatus([S.DEGRADED, S.PASSED]), S.DEGRADED);
  });
});

describe('ustar writer', () => {
  it('writes headers with valid checksums and a GNU long name past 100 bytes', () => {
    const long = `commissioning/${'x'.repeat(120)}`;
    const tar = tarArchive([{ path: long, data: Buffer.from('hi'), mode: 0o755, mtime: new Date(0) }]);
    assert.equal(tar.length % 512, 0);
    assert.equal(tar.subarray(156, 157).toString(), 'L');
    const header = tar.subarray(1024, 1536);
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i]!;
    assert.equal(parseInt(header.subarray(148, 154).toString(), 8), sum);
    assert.equal(tar.subarray(1536, 1538).toString(), 'hi');
  });

  it('refuses an entry that would unpack outside its directory', () => {
    for (const path of ['commissioning/../../x', '/etc/x', 'a//b', '..'])
      assert.throws(() => tarArchive([{ path, data: Buffer.alloc(0), mode: 0o644, mtime: new Date(0) }]), /outside/);
  });
});

describe('XPath tag definitions', () => {
  const doc = parseDetails({
    lshw: Buffer.from('<list><node class="processor"><product>Xeon</product></node></list>'),
    lldp: null,
  });
  it('matches as lxml does: node sets, booleans, numbers', () => {
    assert.equal(definitionMatches('//node[@class="processor"]', doc), true);
    assert.equal(definitionMatches('//node[@class="disk"]', doc), false);
    assert.equal(definitionMatches('count(//node) = 1', doc), true);
    assert.equal(definitionMatches('count(//node[@class="disk"])', doc), false);
    assert.equal(definitionMatches('//node', null), false, 'a machine without lshw output matches nothing');
    assert.equal(parseDetails({ lshw: Buffer.from('not xml <'), lldp: null }), null);
  });
  it("evaluates MAAS's merged document: lshw unprefixed as before, lldp: and lshw: in their namespaces", () => {
    const lshw = Buffer.from('<list><node class="processor"><product>Xeon</product></node></list>');
    const lldp = Buffer.from(
      '<lldp label="LLDP neighbors"><interface name="eth0"><chassis><name>sw1</name></chassis></interface></lldp>',
    );
    const merged = parseDetails({ lshw, lldp });
    assert.equal(definitionMatches('count(//node) = 1', merged), true, 'the lshw: copy is not an unprefixed node');
    assert.equal(definitionMatches('//chassis', merged), false, 'lldpctl names only with lldp:');
    assert.equal(definitionMatches('//lldp:interface[@name="eth0"]/lldp:chassis/lldp:name = "sw1"', merged), true);
    assert.equal(definitionMatches('//lshw:node[@class="processor"]/lshw:product = "Xeon"', merged), true);
    assert.equal(definitionMatches('/list/lldp:lldp', merged), true, "under lshw's root");
    const lldpOnly = parseDetails({ lshw: Buffer.from('not xml <'), lldp });
    assert.equal(definitionMatches('/list//lldp:name = "sw1"', lldpOnly), true, 'a bare <list> root');
    assert.equal(definitionMatches('//node', lldpOnly), false);
    assert.equal(parseDetails({ lshw: null, lldp: Buffer.from('<lldp') }), null);
  });
  it("a detail nested deeper than libxml2's limit is not XML (left out, as MAAS does), without exhausting the stack", () => {
    const nested = (depth: number, leaf: string) => Buffer.from(`${'<a>'.repeat(depth)}${leaf}${'</a>'.repeat(depth)}`);
    const lshw = Buffer.from('<list><node class="processor"/></list>');
    const deep = parseDetails({ lshw, lldp: nested(20_000, '<name>sw1</name>') });
    assert.equal(definitionMatches('//node[@class="processor"]', deep), true, 'lshw still evaluated');
    assert.equal(definitionMatches('//lldp:name', deep), false, 'the deep lldp left out');
    assert.equal(parseDetails({ lshw: null, lldp: nested(20_000, '') }), null);
    const shallow = parseDetails({ lshw, lldp: nested(200, '<name>sw1</name>') });
    assert.equal(definitionMatches('//lldp:name = "sw1"', shallow), true, 'within the limit');
    const deepLshw = parseDetails({ lshw: nested(20_000, '<node class="disk"/>'), lldp: null });
    assert.equal(deepLshw, null, 'a deep lshw is not XML either');
  });
  it('refuses an invalid expression with MAAS wording', () => {
    checkDefinition('');
    checkDefinition('//lshw:node');
    assert.match(errorsOf(() => checkDefinition('//node[')).definition![0]!, /^Invalid XPath expression: /);
  });
});
