// The `maas` settings' rules without a database: names, defaults and MAAS's validation wording.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from '../../../src/region/errors';
import {
  SUPPORTED_CONFIG,
  supportedName,
  UNSUPPORTED_CONFIG,
  type ConfigContext,
  type SupportedConfigName,
} from '../../../src/region/services/config-items';

function context(o: Partial<ConfigContext> & { stored?: Record<string, unknown> } = {}): ConfigContext {
  const ctx: ConfigContext = {
    images: o.images ?? [
      { os: 'debian', series: 'bookworm' },
      { os: 'debian', series: 'trixie' },
    ],
    hostname: 'region-host',
    nodeTimeoutMsFromEnv: o.nodeTimeoutMsFromEnv,
    current: (name: SupportedConfigName) => (o.stored?.[name] as never) ?? SUPPORTED_CONFIG[name]!.default(ctx),
  };
  return ctx;
}
const parse = (name: string, raw: string, ctx = context()) => SUPPORTED_CONFIG[name]!.parse(raw, ctx, name);
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ValidationError);
    return Object.values(err.fields)[0]![0]!;
  }
  assert.fail('expected a ValidationError');
};

describe('maas config items', () => {
  it('defaults follow the images, the host and METALFLOW_NODE_TIMEOUT_SECONDS', () => {
    const ctx = context({ nodeTimeoutMsFromEnv: 90_000 });
    assert.equal(ctx.current('maas_name'), 'region-host');
    assert.equal(ctx.current('default_osystem'), 'debian');
    assert.equal(ctx.current('default_distro_series'), 'bookworm');
    assert.equal(ctx.current('node_timeout'), 2, '90 s rounds up to 2 minutes');
    assert.equal(context().current('node_timeout'), 30, "MAAS's default");
    const none = context({ images: [] });
    assert.equal(none.current('default_osystem'), 'ubuntu');
    assert.equal(none.current('default_distro_series'), 'jammy');
  });

  it('parses and normalises as MAAS stores values', () => {
    assert.equal(parse('upstream_dns', ' 10.0.0.1,10.0.0.2 '), '10.0.0.1 10.0.0.2');
    assert.equal(parse('enable_disk_erasing_on_release', 'True'), true);
    assert.equal(parse('node_timeout', '45'), 45);
    assert.equal(parse('default_distro_series', 'trixie'), 'trixie');
  });

  it("refuses with MAAS's words", () => {
    assert.match(
      refusal(() => parse('default_distro_series', 'noble')),
      /'noble' is not a valid release/,
    );
    assert.match(
      refusal(() => parse('default_osystem', 'debian', context({ images: [] }))),
      /due to missing boot images/,
    );
    assert.match(
      refusal(() => parse('node_timeout', '43201')),
      /less than or equal to 43200/,
    );
    assert.match(
      refusal(() => parse('maas_name', 'a\u0007b')),
      /Control characters/,
    );
    assert.match(
      refusal(() => supportedName('kernel_opts')),
      /metalflow does not support the MAAS setting kernel_opts/,
    );
    assert.match(
      refusal(() => supportedName('bogus')),
      /^bogus is not a valid config setting \(valid settings are: /,
    );
  });

  it('no name is both supported and refused', () => {
    for (const name of UNSUPPORTED_CONFIG) assert.ok(!Object.hasOwn(SUPPORTED_CONFIG, name), name);
  });
});
