// MAAS's global settings (src/maasserver/forms/settings.py CONFIG_ITEMS) as metalflow honours
// them: each supported name with its default, its parser (MAAS's validation and wording) and what
// it drives. Every other MAAS name is refused by name. A few supported names are checked and
// stored for the work that will read them (default_storage_layout, ntp_servers,
// commissioning_distro_series, default_min_hwe_kernel): their docs in describe/ say so.
// Pure: the images and the other settings a rule needs come in as a ConfigContext.
import { ValidationError } from '../errors';

export type ConfigValue = string | number | boolean | null;

export interface ConfigContext {
  /** The boot resources this region has (os, series), in BootResourceService order. */
  images: ReadonlyArray<{ os: string; series: string }>;
  /** The effective value of another setting (stored or default). */
  current(name: SupportedConfigName): ConfigValue;
  /** METALFLOW_NODE_TIMEOUT_SECONDS in ms, when the operator set it: node_timeout's default. */
  nodeTimeoutMsFromEnv?: number;
  hostname: string;
}

interface ConfigItem {
  doc: string;
  default(ctx: ConfigContext): ConfigValue;
  /** The value to store, from set_config's text; throws a ValidationError naming the setting. */
  parse(raw: string, ctx: ConfigContext, name: string): ConfigValue;
}

/** MAAS 3.7 keeps node_timeout's default at 30 minutes. */
export const DEFAULT_NODE_TIMEOUT_MINUTES = 30;
/** A cap of our own (MAAS has none): 30 days, far beyond any boot, and safe as a timer in ms. */
export const MAX_NODE_TIMEOUT_MINUTES = 43_200;
const MAX_TEXT = 255;

/** MAAS's storage layouts (src/maasserver/storage_layouts.py STORAGE_LAYOUT_CHOICES). */
export const STORAGE_LAYOUTS = ['bcache', 'blank', 'custom', 'flat', 'lvm', 'vmfs6', 'vmfs7'] as const;

const invalid = (name: string, message: string) => ValidationError.field(name, message);

/** Django's ChoiceField wording, as MAAS composes it (compose_invalid_choice_text). */
function choice(name: string, what: string, value: string, choices: readonly string[]): string {
  if (choices.length === 0)
    throw invalid(name, 'Unable to determine supported operating systems, due to missing boot images.');
  if (!choices.includes(value))
    throw invalid(
      name,
      `'${value}' is not a valid ${what}.  It should be one of: ${choices.map((c) => `'${c}'`).join(', ')}.`,
    );
  return value;
}

function bool(raw: string, name: string): boolean {
  const v = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(v)) return true;
  if (['false', '0', 'no', 'off', ''].includes(v)) return false;
  throw invalid(name, `'${raw}' is not a boolean: use true or false.`);
}

function text(raw: string, name: string, o: { required?: boolean } = {}): string {
  const v = raw.trim();
  if (o.required && v === '') throw invalid(name, 'This field is required.');
  if (v.length > MAX_TEXT)
    throw invalid(name, `Ensure this value has at most ${MAX_TEXT} characters (it has ${v.length}).`);
  if ([...v].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f))
    throw invalid(name, 'Control characters are not allowed.');
  return v;
}

const unique = (xs: readonly string[]) => [...new Set(xs)];
const oses = (ctx: ConfigContext) => unique(ctx.images.map((i) => i.os));
const seriesOf = (ctx: ConfigContext, os: string) => unique(ctx.images.filter((i) => i.os === os).map((i) => i.series));

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
function isIp(s: string): boolean {
  if (IPV4.test(s)) return true;
  if (!s.includes(':') || !/^[0-9a-f:.]+$/i.test(s)) return false;
  try {
    return new URL(`http://[${s}]/`).hostname !== '';
  } catch {
    return false;
  }
}
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;
/** MAAS's list fields split on commas and whitespace and store the items space-separated. */
const items = (raw: string) => raw.split(/[,\s]+/).filter((s) => s !== '');
const MAX_LIST_ITEMS = 32;

function list(raw: string, name: string, ok: (s: string) => boolean, message: (s: string) => string): string {
  const xs = items(raw);
  if (xs.length > MAX_LIST_ITEMS) throw invalid(name, `At most ${MAX_LIST_ITEMS} entries.`);
  for (const x of xs) if (!ok(x)) throw invalid(name, message(x));
  return xs.join(' ');
}

const KERNEL = /^(ga|hwe)-(\d{2}\.\d{2}|[a-z])(-[a-z0-9]+)?$/;

export const SUPPORTED_CONFIG: Readonly<Record<string, ConfigItem>> = {
  maas_name: {
    doc: 'MAAS name: the web UI shows it in every page title.',
    default: (ctx) => ctx.hostname,
    parse: (raw, _ctx, name) => text(raw, name, { required: true }),
  },
  default_osystem: {
    doc: "Default operating system used for deployment: a deploy without distro_series installs this OS's default_distro_series. One of the OSes of boot-resources/.",
    default: (ctx) => ctx.images[0]?.os ?? 'ubuntu',
    parse: (raw, ctx, name) => choice(name, 'osystem', raw.trim(), oses(ctx)),
  },
  default_distro_series: {
    doc: 'Default OS release used for deployment (a deploy without distro_series): a series of default_osystem among boot-resources/.',
    default: (ctx) => seriesOf(ctx, String(ctx.current('default_osystem')))[0] ?? 'jammy',
    parse: (raw, ctx, name) => {
      if (ctx.images.length === 0) return choice(name, 'release', raw, []);
      return choice(name, 'release', raw.trim(), seriesOf(ctx, String(ctx.current('default_osystem'))));
    },
  },
  commissioning_distro_series: {
    doc: "Release used for commissioning: stored; it must name a series among boot-resources/ (commissioning boots metalflow's ephemeral environment).",
    default: (ctx) => ctx.images[0]?.series ?? 'jammy',
    parse: (raw, ctx, name) =>
      choice(name, 'commissioning_distro_series', raw.trim(), unique(ctx.images.map((i) => i.series))),
  },
  default_min_hwe_kernel: {
    doc: "Default minimum kernel version: stored (deployed images keep their own kernel). Empty, or a MAAS kernel name such as 'hwe-22.04' or 'ga-24.04'.",
    default: () => '',
    parse: (raw, _ctx, name) => {
      const v = raw.trim();
      if (v !== '' && !KERNEL.test(v))
        throw invalid(
          name,
          `'${v}' is not a valid default_min_hwe_kernel.  It should be empty or a kernel such as 'hwe-22.04'.`,
        );
      return v;
    },
  },
  default_storage_layout: {
    doc: `Default storage layout, applied to a machine when it is commissioned: stored. One of ${STORAGE_LAYOUTS.join(', ')}.`,
    default: () => 'flat',
    parse: (raw, _ctx, name) => {
      const v = raw.trim();
      if (!(STORAGE_LAYOUTS as readonly string[]).includes(v))
        throw invalid(name, `Select a valid choice. ${v} is not one of the available choices.`);
      return v;
    },
  },
  enable_disk_erasing_on_release: {
    doc: "Erase nodes' disks prior to releasing: forces every release to erase disks.",
    default: () => false,
    parse: (raw, _ctx, name) => bool(raw, name),
  },
  disk_erase_with_secure_erase: {
    doc: "Use secure erase by default when erasing disks (a release's secure_erase when it does not say).",
    default: () => false,
    parse: (raw, _ctx, name) => bool(raw, name),
  },
  disk_erase_with_quick_erase: {
    doc: "Use quick erase by default when erasing disks (a release's quick_erase when it does not say).",
    default: () => false,
    parse: (raw, _ctx, name) => bool(raw, name),
  },
  ntp_servers: {
    doc: 'Addresses of NTP servers (IP addresses or hostnames, separated by commas and/or spaces): the IP addresses reach DHCP clients (option 42).',
    default: () => '',
    parse: (raw, _ctx, name) =>
      list(
        raw,
        name,
        (s) => isIp(s) || HOSTNAME.test(s),
        (s) => `Invalid IP address or hostname: '${s}'.`,
      ),
  },
  upstream_dns: {
    doc: "Upstream DNS used to resolve domains not managed by this MAAS (space-separated IP addresses): the region's DNS server forwards to them.",
    default: () => null,
    parse: (raw, _ctx, name) =>
      list(raw, name, isIp, (s) => `Invalid IP address: ${s}; provide a list of space-separated IP addresses`),
  },
  dnssec_validation: {
    doc: "Enable DNSSEC validation of upstream zones: the region's DNS server's dnssec-validation (auto: with the built-in trust anchor; yes: with configured ones; no: off).",
    default: () => 'auto',
    parse: (raw, _ctx, name) => {
      const v = raw.trim();
      if (!['auto', 'yes', 'no'].includes(v))
        throw invalid(name, `Select a valid choice. ${v} is not one of the available choices.`);
      return v;
    },
  },
  node_timeout: {
    doc: `Time, in minutes, until the node times out during commissioning, deploying or releasing: lifecycle operations started after the change wait this long for the machine (1 to ${MAX_NODE_TIMEOUT_MINUTES}).`,
    default: (ctx) =>
      ctx.nodeTimeoutMsFromEnv === undefined
        ? DEFAULT_NODE_TIMEOUT_MINUTES
        : Math.max(1, Math.ceil(ctx.nodeTimeoutMsFromEnv / 60_000)),
    parse: (raw, _ctx, name) => {
      const v = raw.trim();
      if (!/^[+-]?\d+$/.test(v)) throw invalid(name, 'Enter a whole number.');
      const n = Number(v);
      if (n < 1) throw invalid(name, 'Ensure this value is greater than or equal to 1.');
      if (n > MAX_NODE_TIMEOUT_MINUTES)
        throw invalid(name, `Ensure this value is less than or equal to ${MAX_NODE_TIMEOUT_MINUTES}.`);
      return n;
    },
  },
};

export type SupportedConfigName = keyof typeof SUPPORTED_CONFIG & string;

/** MAAS 3.7's other settings: known names, refused because nothing here would act on them. */
export const UNSUPPORTED_CONFIG = [
  'active_discovery_interval',
  'auto_vlan_creation',
  'boot_images_auto_import',
  'boot_images_no_proxy',
  'completed_intro',
  'curtin_verbose',
  'default_boot_interface_link_type',
  'default_dns_ttl',
  'dns_trusted_acl',
  'enable_analytics',
  'enable_http_proxy',
  'enable_kernel_crash_dump',
  'enable_third_party_drivers',
  'enlist_commissioning',
  'force_v1_network_yaml',
  'hardware_sync_interval',
  'http_proxy',
  'kernel_opts',
  'maas_auto_ipmi_cipher_suite_id',
  'maas_auto_ipmi_k_g_bmc_key',
  'maas_auto_ipmi_user',
  'maas_auto_ipmi_user_privilege_level',
  'maas_auto_ipmi_workaround_flags',
  'maas_internal_domain',
  'maas_proxy_port',
  'maas_syslog_port',
  'main_archive',
  'max_node_commissioning_results',
  'max_node_installation_results',
  'max_node_release_results',
  'max_node_testing_results',
  'network_discovery',
  'ntp_external_only',
  'ports_archive',
  'prefer_v4_proxy',
  'prometheus_enabled',
  'prometheus_push_gateway',
  'prometheus_push_interval',
  'promtail_enabled',
  'promtail_port',
  'release_notifications',
  'remote_syslog',
  'session_length',
  'subnet_ip_exhaustion_threshold_count',
  'theme',
  'tls_cert_expiration_notification_enabled',
  'tls_cert_expiration_notification_interval',
  'use_peer_proxy',
  'use_rack_proxy',
  'vcenter_datacenter',
  'vcenter_password',
  'vcenter_server',
  'vcenter_username',
  'windows_kms_host',
] as const;

/** MAAS's own spelling of an old name (rewrite_config_name). */
export const rewriteConfigName = (name: string): string => (name === 'ntp_server' ? 'ntp_servers' : name);

const ALL_NAMES = [...Object.keys(SUPPORTED_CONFIG), ...UNSUPPORTED_CONFIG].sort();

/** A supported name, or a 400: MAAS's wording for an unknown name, ours for one we do not act on. */
export function supportedName(name: string): SupportedConfigName {
  if (Object.hasOwn(SUPPORTED_CONFIG, name)) return name;
  if ((UNSUPPORTED_CONFIG as readonly string[]).includes(name))
    throw invalid(
      name,
      `metalflow does not support the MAAS setting ${name}: nothing here would act on it. Supported settings: ${Object.keys(SUPPORTED_CONFIG).sort().join(', ')}.`,
    );
  throw invalid(name, `${name} is not a valid config setting (valid settings are: ${ALL_NAMES.join(', ')}).`);
}

/** The doc of get_config/set_config: MAAS's "Available configuration items" list, ours. */
export function configDoc(): string {
  return Object.entries(SUPPORTED_CONFIG)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, item]) => `${name}: ${item.doc}`)
    .join(' ');
}
