// Keeps named's zones equal to the database: at start (everything regenerated, so a restart or a
// change made while the region was down is served at once), and after each change notification,
// debounced (a deploy touches several tables in a burst: one publication follows). The SOA serial
// moves only when some zone's text changed.
import type { DnsSnapshotService } from '../services/dns/zone-snapshot';
import { renderNamedConf, renderZones, type NameServer, type NamedConfOptions } from '../services/dns/zone-files';
import type { NamedProcess } from './named-process';

export interface DnsPublisherOptions {
  snapshots: DnsSnapshotService;
  named: NamedProcess;
  nameServer: NameServer;
  listen: NamedConfOptions['listen'];
  upstreamPort?: number;
  /** How long after a change notification to publish (more changes meanwhile join it). */
  debounceMs: number;
  log: (line: string) => void;
}

export class DnsPublisher {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private published: string | undefined;
  /** Publications done (tests wait on it rather than on time). */
  generation = 0;

  constructor(private readonly o: DnsPublisherOptions) {}

  /** A change happened: publish soon. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.publish();
    }, this.o.debounceMs);
  }

  /** Regenerates everything now (one at a time; a change during a publication runs another). */
  publish(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.publishOnce()
      .catch((err: Error) => this.o.log(`DNS: publication failed, named keeps the previous zones: ${err.message}`))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          void this.publish();
        }
      });
    return this.running;
  }

  private async publishOnce(): Promise<void> {
    const snapshot = await this.o.snapshots.read();
    const conf = (zones: ReturnType<typeof renderZones>['zones']) =>
      renderNamedConf(snapshot, zones, {
        dir: this.o.named.dir,
        listen: this.o.listen,
        rndc: { port: this.o.named.rndcPort, secret: this.o.named.rndcSecret },
        upstreamPort: this.o.upstreamPort,
      });
    // The same texts with serial 0 tell whether anything changed.
    const probe = renderZones(snapshot, 0, this.o.nameServer);
    const key = JSON.stringify([probe.zones, conf(probe.zones)]);
    if (key === this.published) {
      this.generation++;
      return;
    }
    const rendered = renderZones(snapshot, await this.o.snapshots.nextSerial(), this.o.nameServer);
    for (const why of rendered.skipped) this.o.log(`DNS: record left out: ${why}`);
    this.o.named.write({ namedConf: conf(rendered.zones), zones: rendered.zones });
    if (this.published !== undefined) await this.o.named.reload();
    this.published = key;
    this.generation++;
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}
