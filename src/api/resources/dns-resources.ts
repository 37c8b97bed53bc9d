// MAAS's DNSResourcesHandler/DNSResourceHandler and DNSResourceRecordsHandler/
// DNSResourceRecordHandler. Users read; admins create, update, delete. Serving DNS is not here.
import type { RegionServices } from '../../region/services';
import { TTL_FIELD_MAX } from '../../region/services/dns/dns-validation';
import type { Principal } from '../../region/services/principal';
import { field, form, Reply, type Resource } from '../http';
import { presentDnsRecord, presentDnsResource } from '../presenters/dns';
import { action, caller, may } from './access';

const NAME_MAX = 191;
const nameFields = {
  fqdn: field.text('Hostname with domain; ignored when name or domain is given.', { maxLength: 255 }),
  name: field.text('Hostname without domain (one label; _service._proto[.label] for SRV).', {
    maxLength: NAME_MAX,
  }),
  domain: field.text('The domain, by name or id (default: the default domain).', { maxLength: 255 }),
};
const ttlField = (doc: string) => field.withRaw(field.int(`${doc}; empty clears it.`, { min: 0, max: TTL_FIELD_MAX }));
const ttlOf = (t: { value: number | undefined; raw: string[] }) => (t.raw.length === 0 ? undefined : (t.value ?? null));

const readFilters = {
  domain: field.text('Only entries of this domain (name or id).', { maxLength: 255 }),
  name: field.text('Only entries with this name.', { maxLength: NAME_MAX }),
  rrtype: field.text('Only entries with records of this type.', { maxLength: 8 }),
  fqdn: field.text('Only entries with this fqdn (when domain and name are absent).', { maxLength: 255 }),
};

const resourceForm = form(
  {
    ...nameFields,
    address_ttl: ttlField("TTL of the resource's address records, in seconds"),
    ip_addresses: field.text('Addresses (IPv4 or IPv6), space-separated: an A or AAAA record each.', {
      maxLength: 4096,
    }),
  },
  (v) => ({
    fqdn: v.fqdn,
    name: v.name,
    domain: v.domain,
    addressTtl: ttlOf(v.address_ttl),
    ipAddresses: v.ip_addresses,
  }),
);

const recordForm = (create: boolean) =>
  form(
    {
      ...(create ? nameFields : {}),
      rrtype: field.text('The record type: CNAME, MX, NS, SRV, SSHFP or TXT.', { maxLength: 8 }),
      rrdata: field.text('The record data: everything right of the type (e.g. "10 mail.example.com").', {
        maxLength: 4096,
      }),
      ttl: ttlField("The record's TTL, in seconds"),
    },
    (v: Record<string, unknown>) => ({
      fqdn: v.fqdn as string | undefined,
      name: v.name as string | undefined,
      domain: v.domain as string | undefined,
      rrtype: v.rrtype as string | undefined,
      rrdata: v.rrdata as string | undefined,
      ttl: ttlOf(v.ttl as { value: number | undefined; raw: string[] }),
    }),
  );

export function dnsResourceResources(deps: {
  services: Pick<RegionServices, 'dnsResources' | 'dnsRecords'>;
}): Array<Resource<Principal>> {
  const { dnsResources, dnsRecords } = deps.services;
  return [
    {
      name: 'DNSResourcesHandler',
      path: '/dnsresources/',
      doc: 'Manage dnsresources.',
      actions: [
        action({
          method: 'GET',
          access: may('dns', 'read'),
          form: form({
            ...readFilters,
            all: field.bool("Include the implicit records of machines' and devices' addresses."),
          }),
          doc: 'List DNS resources; with all=true also the records MAAS derives from the machines and devices you can see.',
          handle: async (c) =>
            (await dnsResources.list(caller(c), { ...c.form, all: c.form.all === true })).map(presentDnsResource),
        }),
        action({
          method: 'POST',
          access: may('dns', 'create'),
          form: resourceForm,
          doc: 'Create a DNS resource (admin only): fqdn, or name and domain.',
          handle: async (c) => presentDnsResource(await dnsResources.create(c.form)),
        }),
      ],
    },
    {
      name: 'DNSResourceHandler',
      path: '/dnsresources/{id}/',
      doc: 'Manage dnsresource.',
      actions: [
        action({
          method: 'GET',
          access: may('dns', 'read'),
          doc: 'A DNS resource by id.',
          handle: async (c) => presentDnsResource(await dnsResources.get(c.path.id!)),
        }),
        action({
          method: 'PUT',
          access: may('dns', 'update'),
          form: resourceForm,
          doc: 'Update a DNS resource (admin only); ip_addresses replaces its addresses.',
          handle: async (c) => presentDnsResource(await dnsResources.update(c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('dns', 'delete'),
          doc: 'Delete a DNS resource with its addresses and records (admin only).',
          handle: async (c) => (await dnsResources.delete(c.path.id!), Reply.noContent()),
        }),
      ],
    },
    {
      name: 'DNSResourceRecordsHandler',
      path: '/dnsresourcerecords/',
      doc: 'Manage DNS resource records (e.g. CNAME, MX, NS, SRV, TXT records).',
      actions: [
        action({
          method: 'GET',
          access: may('dns', 'read'),
          form: form(readFilters),
          doc: 'List DNS resource records.',
          handle: async (c) => (await dnsRecords.list(c.form)).map(presentDnsRecord),
        }),
        action({
          method: 'POST',
          access: may('dns', 'create'),
          form: recordForm(true),
          doc: "Create a DNS resource record (admin only); the name's DNS resource is created if new.",
          handle: async (c) => presentDnsRecord(await dnsRecords.create(c.form)),
        }),
      ],
    },
    {
      name: 'DNSResourceRecordHandler',
      path: '/dnsresourcerecords/{id}/',
      doc: 'Manage dnsresourcerecord.',
      actions: [
        action({
          method: 'GET',
          access: may('dns', 'read'),
          doc: 'A DNS resource record by id.',
          handle: async (c) => presentDnsRecord(await dnsRecords.get(c.path.id!)),
        }),
        action({
          method: 'PUT',
          access: may('dns', 'update'),
          form: recordForm(false),
          doc: 'Update a DNS resource record (admin only).',
          handle: async (c) => presentDnsRecord(await dnsRecords.update(c.path.id!, c.form)),
        }),
        action({
          method: 'DELETE',
          access: may('dns', 'delete'),
          doc: 'Delete a DNS resource record (admin only); its resource goes too when left empty.',
          handle: async (c) => (await dnsRecords.delete(c.path.id!), Reply.noContent()),
        }),
      ],
    },
  ];
}
