// metalflow's TFTP server as its own process for the benchmark (as it runs in a rack):
// `node --import tsx bench/tftp/server.ts <root> <host> <port>`; prints "ready" once bound.
import { startTftpServer } from '../../src/rack/boot/tftp-server';

const [root, host = '127.0.0.1', port = '69'] = process.argv.slice(2);
if (!root) throw new Error('usage: server.ts <root> [host] [port]');

let transfers = 0;
startTftpServer({
  root,
  host,
  port: Number(port),
  bootScript: () => Promise.resolve('#!ipxe\n'),
  // One line per transfer is the rack's log; here only failures matter.
  log: (line) => {
    transfers++;
    if (!/ done \d+ ms$/.test(line)) console.error(line);
  },
}).then(
  (server) => {
    console.log('ready');
    process.on('SIGTERM', () => {
      void server.close().then(() => {
        console.error(`metalflow tftp: ${transfers} transfers`);
        process.exit(0);
      });
    });
  },
  (err: unknown) => {
    console.error((err as Error).message);
    process.exit(1);
  },
);
