// The rack's HTTP boot server alone (src/rack/boot/service.ts, TFTP off), for bench/image.ts:
//   node --import tsx bench/image/serve.ts <bootRoot>   → prints `port <n>` once listening.
import { startBootServices } from '../../src/rack/boot/service';

async function main(): Promise<void> {
  const services = await startBootServices({
    bootRoot: process.argv[2]!,
    httpPort: 0,
    tftpPort: null,
    bindAddress: '127.0.0.1',
    regionUrl: 'http://127.0.0.1:9/MAAS',
    bootConfigByMac: () => Promise.reject(new Error('no region in this benchmark')),
    log: () => undefined,
  });
  const port = services.ports().http;
  if (!port) throw new Error(`the HTTP boot server did not start: ${JSON.stringify(services.status())}`);
  console.log(`port ${port}`);
  process.on('SIGTERM', () => void services.stop().then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
