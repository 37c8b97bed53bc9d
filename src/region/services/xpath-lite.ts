// The part of npm xpath metalflow uses (automatic tags, the lshw firmware check). Loaded untyped:
// its .d.ts pulls TypeScript's DOM library into the whole program, which retypes Node's fetch and
// Buffer bodies everywhere else.
import { createRequire } from 'node:module';

export interface XPathLite {
  select(expression: string, node: unknown): unknown;
  selectWithResolver(
    expression: string,
    node: unknown,
    resolver: { lookupNamespaceURI(prefix: string | null): string | null },
  ): unknown;
}

export const xpath = createRequire(__filename)('xpath') as XPathLite;
