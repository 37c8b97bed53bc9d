// A private network namespace for the TFTP benchmark: dnsmasq only serves TFTP on port 69, and
// other work on this machine may use 127.0.0.1:69; inside the namespace the port is ours.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface Netns {
  name: string;
  /** Spawns `command` inside the namespace (`ip netns exec` execs it: the pid is the program's). */
  spawn(command: string, args: string[], options?: SpawnOptions): ChildProcess;
  remove(): void;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function createNetns(name: string): Netns {
  ip('netns', 'add', name);
  try {
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    // tftpd-hpa resolves its bind address with AI_ADDRCONFIG, which ignores loopback: without
    // one non-loopback IPv4 address in the namespace it cannot "resolve" 127.0.0.1 and exits.
    ip('netns', 'exec', name, 'ip', 'link', 'add', 'mfb0', 'type', 'veth', 'peer', 'name', 'mfb1');
    ip('netns', 'exec', name, 'ip', 'addr', 'add', '10.254.0.1/24', 'dev', 'mfb0');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'mfb0', 'up');
    ip('netns', 'exec', name, 'ip', 'link', 'set', 'mfb1', 'up');
  } catch (err) {
    ip('netns', 'delete', name);
    throw err;
  }
  return {
    name,
    spawn: (command, args, options = {}) => spawn('ip', ['netns', 'exec', name, command, ...args], options),
    remove: () => ip('netns', 'delete', name),
  };
}
