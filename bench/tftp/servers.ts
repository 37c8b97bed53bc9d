// The three TFTP servers the benchmark compares, each started inside the namespace on
// 127.0.0.1:69 with the same root.
import { type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Netns } from './netns';

export interface TftpPeer {
  name: 'metalflow' | 'tftpd-hpa' | 'dnsmasq';
  binary: string;
  /** Why this server's CPU time cannot be read from /proc, if it cannot. */
  cpuUnreadable?: string;
  start(ns: Netns, root: string): ChildProcess;
}

const REPO = path.resolve(__dirname, '..', '..');

export const SERVERS: TftpPeer[] = [
  {
    name: 'metalflow',
    binary: process.execPath,
    start: (ns, root) =>
      ns.spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'server.ts'), root, '127.0.0.1', '69'], {
        cwd: REPO,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
  },
  {
    // Debian tftpd-hpa, standalone; chrooted into the root, serving as nobody (its defaults).
    name: 'tftpd-hpa',
    binary: '/usr/sbin/in.tftpd',
    cpuUnreadable:
      'forks a process per transfer and lets the kernel reap it: its CPU time is never added to the parent',
    start: (ns, root) =>
      ns.spawn(
        '/usr/sbin/in.tftpd',
        ['-4', '--listen', '--foreground', '--address', '127.0.0.1:69', '--secure', root],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
  },
  {
    // dnsmasq as TFTP only (--port=0: no DNS); its default of 50 simultaneous transfers raised.
    name: 'dnsmasq',
    binary: '/usr/sbin/dnsmasq',
    start: (ns, root) =>
      ns.spawn(
        '/usr/sbin/dnsmasq',
        [
          '--conf-file=/dev/null',
          '--port=0',
          '--enable-tftp',
          `--tftp-root=${root}`,
          '--tftp-max=1000',
          '--keep-in-foreground',
          '--listen-address=127.0.0.1',
          '--bind-interfaces',
          '--pid-file=',
          '--user=nobody',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
  },
];
