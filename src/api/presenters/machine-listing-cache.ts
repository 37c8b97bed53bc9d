// Each machine's presented JSON kept between listings while its version stays the same
// (region/services/machine-listing-versions): a 10,000-machine listing then sends bytes already
// made instead of reading, presenting and stringifying every machine again (issue 17, where the
// profile put the time: bench/results/list-profile.md).
//
// A machine's JSON is kept as UTF-8 in two parts around the value of `domain`: the domain object
// carries the domain's record count, which moves with any DNS change, so it is made once per
// listing and per domain instead of being a part of every machine's version.
import type { DomainRef, ListedMachine, MachineView } from '../../region/services/machine-queries';
import { presentNodeDomain } from './domain';
import { presentMachine, type PresentOptions } from './machine';

interface Entry {
  version: string;
  /** The machine's JSON up to and including `"domain":`. */
  head: Buffer;
  /** Its JSON after the domain's value. */
  tail: Buffer;
}

interface Kept extends Entry {
  /** Read since eviction last passed it: it gets a second chance (CLOCK, an approximate LRU). */
  used: boolean;
}

/** The most bytes kept: 10,000 machines of the bench's shape take about 60 MiB per variant. */
export const LISTING_CACHE_MAX_BYTES = 128 * 2 ** 20;

/**
 * Entries by variant (what the presenter's options make differ) and machine id. Once `maxBytes`
 * is passed, the oldest entry not read since eviction last looked at it goes first. A read only
 * sets a flag: a listing reads every machine, and moving each entry to the end of its map (a
 * true LRU) was 8 % of the API's CPU for a warm listing (bench/results/list-profile.md).
 */
export class PresentedMachineCache {
  private readonly variants = new Map<string, Map<number, Kept>>();
  private entries = 0;
  private bytes = 0;

  constructor(private readonly maxBytes = LISTING_CACHE_MAX_BYTES) {}

  get size(): { entries: number; bytes: number } {
    return { entries: this.entries, bytes: this.bytes };
  }

  get(variant: string, id: number, version: string): Entry | undefined {
    const entry = this.variants.get(variant)?.get(id);
    if (!entry || entry.version !== version) return undefined;
    entry.used = true;
    return entry;
  }

  set(variant: string, id: number, entry: Entry): void {
    let kept = this.variants.get(variant);
    if (!kept) this.variants.set(variant, (kept = new Map()));
    this.delete(kept, id);
    const cost = entryBytes(entry);
    if (cost > this.maxBytes) return;
    kept.set(id, { ...entry, used: false });
    this.entries++;
    this.bytes += cost;
    this.evict();
  }

  private evict(): void {
    // The first pass spares what was read (clearing its flag) and moves it behind the rest, so
    // the next eviction starts with what no listing read; the second takes what is left in order.
    for (let pass = 0; pass < 2 && this.bytes > this.maxBytes; pass++) {
      const spared: Array<[Map<number, Kept>, number, Kept]> = [];
      scan: for (const kept of this.variants.values())
        for (const [id, entry] of kept) {
          if (this.bytes <= this.maxBytes) break scan;
          if (pass === 0 && entry.used) {
            entry.used = false;
            spared.push([kept, id, entry]);
          } else this.delete(kept, id);
        }
      for (const [kept, id, entry] of spared) {
        kept.delete(id);
        kept.set(id, entry);
      }
    }
    for (const [variant, kept] of this.variants) if (kept.size === 0) this.variants.delete(variant);
  }

  private delete(kept: Map<number, Kept>, id: number): void {
    const entry = kept.get(id);
    if (!entry) return;
    kept.delete(id);
    this.entries--;
    this.bytes -= entryBytes(entry);
  }
}

function entryBytes(e: Entry): number {
  return e.version.length + e.head.length + e.tail.length + 64;
}

/** presentMachine's JSON text cut around the domain's value: head + domain JSON + tail is JSON.stringify's. */
export function splitAtDomain(presented: Record<string, unknown>): { head: Buffer; tail: Buffer } {
  const keys = Object.keys(presented);
  const at = keys.indexOf('domain');
  if (at < 0) throw new Error('a presented machine without its domain');
  const pick = (ks: string[]) => Object.fromEntries(ks.map((k) => [k, presented[k]]));
  const before = JSON.stringify(pick(keys.slice(0, at)));
  const after = JSON.stringify(pick(keys.slice(at + 1)));
  return {
    head: Buffer.from(before === '{}' ? '{"domain":' : `${before.slice(0, -1)},"domain":`),
    tail: Buffer.from(after === '{}' ? '}' : `,${after.slice(1)}`),
  };
}

/**
 * The machines of a versioned listing as encoded JSON, in order: kept ones from the cache, the
 * rest presented (and kept). `known` goes to the listing (views are read only of the machines it
 * lacks); the cache entries it found are held for the chunk, so an eviction by a concurrent
 * listing in between cannot lose them.
 */
export class MachineListingEncoder {
  private readonly variant: string;
  private readonly hits = new Map<number, Entry>();
  private readonly domainJson = new Map<string, Buffer>();

  constructor(
    private readonly cache: PresentedMachineCache,
    private readonly options: PresentOptions,
  ) {
    this.variant = `${options.temporalUiUrl ?? ''}\n${options.temporalNamespace}\n`;
  }

  readonly known = (m: ListedMachine): boolean => {
    const hit = this.cache.get(this.variant, m.id, m.version);
    if (hit) this.hits.set(m.id, hit);
    return hit !== undefined;
  };

  /** One machine's JSON as buffers, in order; `view` is given when the cache lacked it. */
  encode(m: ListedMachine, view: MachineView | undefined, domains: Map<string, DomainRef>): Buffer[] {
    let entry = this.hits.get(m.id);
    this.hits.delete(m.id);
    if (!entry) {
      if (!view) throw new Error(`machine ${m.id}: neither kept nor read`);
      entry = { version: m.version, ...splitAtDomain(presentMachine(view, this.options)) };
      this.cache.set(this.variant, m.id, entry);
    }
    return [entry.head, this.domainOf(m.domain, domains), entry.tail];
  }

  private domainOf(name: string, domains: Map<string, DomainRef>): Buffer {
    let json = this.domainJson.get(name);
    if (!json) {
      json = Buffer.from(JSON.stringify(presentNodeDomain(name, domains.get(name))));
      this.domainJson.set(name, json);
    }
    return json;
  }
}
