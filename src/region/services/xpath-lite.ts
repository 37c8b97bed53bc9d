// The part of npm xpath metalflow uses (automatic tags, the lshw firmware check). Loaded untyped:
// its .d.ts pulls TypeScript's DOM library into the whole program, which retypes Node's fetch and
// Buffer bodies everywhere else.

export interface XPathLite {
  select(expression: string, node: unknown): unknown;
  selectWithResolver(
    expression: string,
    node: unknown,
    resolver: { lookupNamespaceURI(prefix: string | null): string | null },
  ): unknown;
}

// A plain require (not createRequire's) so that dependency checks see the package used.
// eslint-disable-next-line no-restricted-syntax -- an external package, loaded untyped on purpose (above)
export const xpath = require('xpath') as XPathLite;
