// A throwaway self-signed certificate for a TLS test peer (a BMC or a webhook endpoint).
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** Writes key.pem and cert.pem for `commonName` into `dir` (valid one day) and returns their paths. */
export function selfSignedCert(dir: string, commonName: string): { key: string; cert: string } {
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${commonName}`,
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { stdio: 'ignore' },
  );
  return { key, cert };
}
