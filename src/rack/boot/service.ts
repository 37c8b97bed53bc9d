// The rack's boot services as one unit for rack-process.ts: TFTP (first-stage loaders, boot.ipxe)
// and HTTP boot (scripts, images, the /MAAS/ proxy). A server that cannot start (port 69 taken,
// no privilege) is reported dead in the heartbeat; the rack itself keeps running.
import fs from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { BOOT_HTTP } from '../../contracts/boot';
import { RACK_HTTP_PORT } from '../../contracts/rack-api';
import { bootLayout } from './boot-root';
import { DEBIAN_IPXE_DIR, installIpxeFirmware } from './firmware';
import type { Log } from '../../contracts/log';
import { createHttpBootServer, type HttpBootTransfer } from './http-server';
import { bootScript, httpBase } from './ipxe-script';
import { isWildcard, localAddressFor } from './local-address';
import type { LeasedAddresses } from './credential-gate';
import type { BootConfigByMac, PreparedBoots } from './mac-config';
import { startTftpServer, type RunningTftp, type TftpTransfer } from './tftp-server';

export type BootServiceName = 'tftp' | 'http-boot';
export type BootServiceStatus = { status: 'running' | 'dead' | 'off'; message: string };

export interface BootServicesOptions {
  /** Holds images/ephemeral/<arch>/{vmlinuz,initrd.gz} and tftp/ (loaders are copied there). */
  bootRoot: string;
  /** Default RACK_HTTP_PORT (5248); null leaves the server off. */
  httpPort?: number | null;
  /** Default 69; null leaves the server off. */
  tftpPort?: number | null;
  /** Default 0.0.0.0 (PXE clients come from any interface). */
  bindAddress?: string;
  /** The address scripts point at when the one a request arrived on cannot be told. */
  advertiseAddress?: string;
  /** The region as racks are given it; /MAAS/ is proxied there. */
  regionUrl: string;
  /** The region's boot config for a MAC (RegionClient.bootConfigByMac with this rack bound). */
  bootConfigByMac: BootConfigByMac;
  /** What this rack prepared, used while the region is unreachable. */
  bootCache?: PreparedBoots;
  /** This rack's DHCP leases; without them no boot script carries machine credentials. */
  leasedAddresses?: LeasedAddresses;
  log: Log;
  /** Transfers once over (the rack's metrics). */
  onTftpTransfer?: (t: TftpTransfer) => void;
  onHttpTransfer?: (t: HttpBootTransfer) => void;
  /** Ephemeral environment architecture (default amd64). */
  arch?: string;
  /** Where iPXE loaders are copied from (default Debian's /usr/lib/ipxe). */
  firmwareDir?: string;
  /** How long a per-MAC script waits for the region before using the cache (default 10 s). */
  regionTimeoutMs?: number;
}

export interface BootServices {
  status(): Record<BootServiceName, BootServiceStatus>;
  /** Ports actually bound (useful with port 0); undefined for a server that is not running. */
  ports(): { http?: number; tftp?: number };
  stop(): Promise<void>;
}

export async function startBootServices(o: BootServicesOptions): Promise<BootServices> {
  const bind = o.bindAddress ?? '0.0.0.0';
  const { root, tftpDir } = bootLayout(o.bootRoot);
  const states: Record<BootServiceName, BootServiceStatus> = {
    'http-boot': { status: 'off', message: 'not configured' },
    tftp: { status: 'off', message: 'not configured' },
  };
  const dead = (name: BootServiceName, err: unknown) => {
    states[name] = { status: 'dead', message: (err as Error).message };
    o.log(`${name}: DEAD: ${(err as Error).message}`);
  };

  let httpServer: http.Server | undefined;
  let httpPort: number | undefined;
  const httpPortWanted = o.httpPort === undefined ? RACK_HTTP_PORT : o.httpPort;
  if (httpPortWanted !== null) {
    const server = createHttpBootServer({
      bootRoot: root,
      regionUrl: o.regionUrl,
      bootConfigByMac: o.bootConfigByMac,
      prepared: o.bootCache,
      leasedAddresses: o.leasedAddresses,
      timeoutMs: o.regionTimeoutMs,
      arch: o.arch,
      log: o.log,
      onTransfer: o.onHttpTransfer,
    });
    try {
      httpPort = await listen(server, httpPortWanted, bind);
      httpServer = server;
      const kernel = path.join(root, BOOT_HTTP.ephemeralKernel(o.arch ?? 'amd64'));
      const images = (await exists(kernel)) ? '' : `; no ephemeral kernel at ${kernel} yet (machines cannot netboot)`;
      states['http-boot'] = { status: 'running', message: `listening on ${bind}:${httpPort}${images}` };
      server.on('error', (err) => dead('http-boot', err));
    } catch (err) {
      dead('http-boot', new Error(`cannot listen on ${bind}:${httpPortWanted}: ${(err as Error).message}`));
    }
  }

  let tftp: RunningTftp | undefined;
  const tftpPortWanted = o.tftpPort === undefined ? 69 : o.tftpPort;
  if (tftpPortWanted !== null) {
    try {
      const firmware = await installIpxeFirmware(tftpDir, o.firmwareDir);
      if (firmware.installed.length)
        o.log(`tftp: copied ${firmware.installed.join(', ')} from ${o.firmwareDir ?? DEBIAN_IPXE_DIR}`);
      const missing = firmware.missing.length
        ? `; missing ${firmware.missing.join(', ')} (install the Debian package ipxe)`
        : '';
      if (missing) o.log(`tftp: WARNING${missing}`);
      tftp = await startTftpServer({
        root: tftpDir,
        host: bind,
        port: tftpPortWanted,
        log: o.log,
        onTransfer: o.onTftpTransfer,
        bootScript: async ({ address }) => {
          // TFTP cannot tell which local address a request arrived on: a specific bind address
          // says it, else the kernel's route back to the client does, else the configured one.
          const server = !isWildcard(bind) ? bind : ((await localAddressFor(address)) ?? o.advertiseAddress);
          if (!server) throw new Error(`no address to send ${address} to (set advertiseAddress)`);
          return bootScript(httpBase(server, httpPort ?? httpPortWanted ?? RACK_HTTP_PORT));
        },
      });
      states.tftp = { status: 'running', message: `listening on ${tftp.address}:${tftp.port}${missing}` };
      tftp.onFailure((err) => dead('tftp', err));
    } catch (err) {
      dead('tftp', new Error(`cannot serve TFTP on ${bind}:${tftpPortWanted}: ${(err as Error).message}`));
    }
  }

  let stopped: Promise<void> | undefined;
  return {
    status: () => ({ 'http-boot': { ...states['http-boot'] }, tftp: { ...states.tftp } }),
    ports: () => ({
      http: states['http-boot'].status === 'running' ? httpPort : undefined,
      tftp: states.tftp.status === 'running' ? tftp?.port : undefined,
    }),
    stop: () =>
      (stopped ??= (async () => {
        await Promise.all([
          tftp?.close(),
          httpServer &&
            new Promise<void>((resolve) => {
              httpServer!.close(() => resolve());
              httpServer!.closeAllConnections();
            }),
        ]);
        for (const name of ['http-boot', 'tftp'] as const) {
          if (states[name].status === 'running') states[name] = { status: 'off', message: 'stopped' };
        }
      })()),
  };
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

const exists = (file: string) =>
  fs.access(file).then(
    () => true,
    () => false,
  );
