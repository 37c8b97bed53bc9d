// Address input checks shared by the networking services: what the API accepts before PostgreSQL
// sees it, so a bad address is a 400 naming the field rather than a database error.
import net from 'node:net';
import { ValidationError } from '../../errors';
import { normaliseMac } from '../machine-validation';

export function ipField(field: string, value: string | undefined, required: true): string;
export function ipField(field: string, value: string | undefined, required?: boolean): string | undefined;
export function ipField(field: string, value: string | undefined, required = false): string | undefined {
  if (value === undefined || value === '') {
    if (required) throw ValidationError.field(field, 'This field is required.');
    return undefined;
  }
  // IPv6 zones (fe80::1%eth0) pass net.isIP but are no address PostgreSQL stores.
  if (!net.isIP(value) || value.includes('%'))
    throw ValidationError.field(field, `Enter a valid IPv4 or IPv6 address (got "${value}").`);
  return value;
}

/** `10.0.0.0/24` or `fd00::/64`; host bits are allowed here and cleared by the caller's SQL. */
export function cidrField(field: string, value: string | undefined): string {
  if (!value) throw ValidationError.field(field, 'This field is required.');
  const [addr, bits, extra] = value.split('/');
  const family = net.isIP(addr ?? '');
  const max = family === 4 ? 32 : 128;
  if (
    !family ||
    (addr ?? '').includes('%') ||
    extra !== undefined ||
    bits === undefined ||
    !/^\d{1,3}$/.test(bits) ||
    Number(bits) > max
  ) {
    throw ValidationError.field(field, `Enter a valid network in CIDR notation, e.g. 10.0.0.0/24 (got "${value}").`);
  }
  return value;
}

export function macField(field: string, value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  const mac = normaliseMac(value);
  if (!mac) throw ValidationError.field(field, `'${value}' is not a valid MAC address.`);
  return mac;
}
