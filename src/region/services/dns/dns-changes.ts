// Tells the DNS publisher when a table DNS answers come from has changed: PostgreSQL's
// LISTEN/NOTIFY on `metalflow_dns` (statement-level triggers, migration 0021), on a connection of
// its own. A lost connection is reconnected, and reported as a change, since notifications sent
// while it was down are gone.
import pg from 'pg';

export const DNS_CHANNEL = 'metalflow_dns';
const RECONNECT_MS = 1_000;

export class DnsChangeFeed {
  private client: pg.Client | undefined;
  private closed = false;

  constructor(
    private readonly databaseUrl: string,
    private readonly onChange: () => void,
    private readonly log: (line: string) => void,
  ) {}

  async start(): Promise<void> {
    const client = new pg.Client({ connectionString: this.databaseUrl, application_name: 'metalflow-dns' });
    this.client = client;
    const lost = (why: string) => {
      if (this.closed || this.client !== client) return;
      this.client = undefined;
      client.end().catch(() => undefined);
      this.log(`DNS: change feed lost (${why}); reconnecting`);
      setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
    };
    client.on('error', (err) => lost(err.message));
    client.on('end', () => lost('connection closed'));
    client.on('notification', () => this.onChange());
    try {
      await client.connect();
      await client.query(`LISTEN ${DNS_CHANNEL}`);
    } catch (err) {
      this.client = undefined;
      client.end().catch(() => undefined);
      throw err;
    }
  }

  private reconnect(): void {
    if (this.closed) return;
    this.start().then(
      () => this.onChange(),
      (err: Error) => {
        this.log(`DNS: change feed: ${err.message}; retrying`);
        setTimeout(() => this.reconnect(), RECONNECT_MS).unref();
      },
    );
  }

  async stop(): Promise<void> {
    this.closed = true;
    await this.client?.end().catch(() => undefined);
  }
}
