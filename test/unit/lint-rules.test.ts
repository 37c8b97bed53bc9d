// Each import rule ARCHITECTURE.md marks ⛔ is proven here: a planted offending file in each
// restricted folder (nested ones too) must be reported by the rule that enforces it, and the
// imports the rules allow must pass. The files are never written: ESLint lints the text as if it
// lived at `filePath`, and resolves its imports against the real tree.
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ESLint, type Linter } from 'eslint';
import tseslint from 'typescript-eslint';

const root = path.resolve(__dirname, '..', '..');
// The project's own eslint.config.mjs, minus type-aware rules: planted files are not in the
// TypeScript project, and the import rules need no types.
const eslint = new ESLint({
  cwd: root,
  overrideConfig: [{ files: ['**/*.ts'], ...tseslint.configs.disableTypeChecked }],
});

const IMPORT_RULES = new Set([
  'import-x/no-restricted-paths',
  'import-x/no-cycle',
  'import-x/no-unresolved',
  '@typescript-eslint/no-restricted-imports',
  'no-restricted-syntax',
  'no-restricted-globals',
]);

async function lint(file: string, code: string): Promise<Linter.LintMessage[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  const messages = result!.messages;
  const fatal = messages.filter((m) => m.fatal);
  assert.deepEqual(fatal, [], `${file} did not parse`);
  return messages.filter((m) => m.ruleId !== null && IMPORT_RULES.has(m.ruleId));
}

interface Planted {
  file: string;
  code: string;
  rule: string;
  /** What the report must say (the folder's rule, in its words). */
  says: RegExp;
}

const ZONE = 'import-x/no-restricted-paths';
const BY_NAME = '@typescript-eslint/no-restricted-imports';
const SYNTAX = 'no-restricted-syntax';

const planted: Planted[] = [
  // contracts import only contracts
  { file: 'src/contracts/planted.ts', code: "import '../region/ids';", rule: ZONE, says: /Contracts/ },
  { file: 'src/contracts/deep/planted.ts', code: "import '../../api/app';", rule: ZONE, says: /Contracts/ },
  { file: 'src/contracts/planted.ts', code: "import './../rack/backoff';", rule: ZONE, says: /Contracts/ },
  { file: 'src/contracts/planted.ts', code: "import 'typeorm';", rule: BY_NAME, says: /no packages/ },
  { file: 'src/contracts/planted.ts', code: "import 'node:fs';", rule: BY_NAME, says: /no packages/ },
  // workflows: only contracts, each other and @temporalio/workflow
  { file: 'src/workflows/planted.ts', code: "import '../region/ids';", rule: ZONE, says: /Workflows/ },
  { file: 'src/workflows/deep/planted.ts', code: "import '../../runtime/config';", rule: ZONE, says: /Workflows/ },
  { file: 'src/workflows/deep/er/planted.ts', code: "import '../../../rack/backoff';", rule: ZONE, says: /Workflows/ },
  {
    file: 'src/workflows/planted.ts',
    code: "import '../activities/rack/index';",
    rule: ZONE,
    says: /Workflows/,
  },
  { file: 'src/workflows/planted.ts', code: "import 'node:fs';", rule: BY_NAME, says: /no Node built-ins/ },
  { file: 'src/workflows/planted.ts', code: "import 'crypto';", rule: BY_NAME, says: /no Node built-ins/ },
  { file: 'src/workflows/planted.ts', code: "import '@temporalio/client';", rule: BY_NAME, says: /Workflows/ },
  { file: 'src/workflows/planted.ts', code: "import 'typeorm';", rule: BY_NAME, says: /Workflows/ },
  {
    file: 'src/workflows/planted.ts',
    code: "export const f = () => import('../contracts/workflows');",
    rule: SYNTAX,
    says: /dynamic import/,
  },
  {
    file: 'src/workflows/planted.ts',
    code: 'export const e = process.env;',
    rule: 'no-restricted-globals',
    says: /process/,
  },
  // rack and activities/rack: never region, api, db, runtime, cli, workflows, @temporalio/client
  { file: 'src/rack/planted.ts', code: "import '../region/ids';", rule: ZONE, says: /Rack code/ },
  {
    file: 'src/rack/power/deep/planted.ts',
    code: "import '../../../region/db/entities';",
    rule: ZONE,
    says: /Rack code/,
  },
  { file: 'src/rack/dhcp/planted.ts', code: "import '../../api/app';", rule: ZONE, says: /Rack code/ },
  { file: 'src/rack/planted.ts', code: "import '../runtime/config';", rule: ZONE, says: /Rack code/ },
  { file: 'src/rack/planted.ts', code: "import '../cli/args';", rule: ZONE, says: /Rack code/ },
  { file: 'src/rack/boot/planted.ts', code: "import '../../workflows/steps';", rule: ZONE, says: /Rack code/ },
  { file: 'src/rack/planted.ts', code: "import '../activities/region/index';", rule: ZONE, says: /Rack code/ },
  { file: 'src/rack/planted.ts', code: "import '@temporalio/client';", rule: BY_NAME, says: /Temporal client/ },
  { file: 'src/rack/planted.ts', code: "import 'typeorm';", rule: BY_NAME, says: /database/ },
  {
    file: 'src/rack/planted.ts',
    code: "import ids = require('../region/ids');\nexport { ids };",
    rule: ZONE,
    says: /Rack code/,
  },
  {
    file: 'src/rack/planted.ts',
    code: "export const ids: unknown = require('node:os');",
    rule: SYNTAX,
    says: /require/,
  },
  { file: 'src/activities/rack/planted.ts', code: "import '../../region/ids';", rule: ZONE, says: /Rack code/ },
  { file: 'src/activities/rack/deep/planted.ts', code: "import '../../../cli/args';", rule: ZONE, says: /Rack code/ },
  { file: 'src/activities/rack/planted.ts', code: "import '@temporalio/client';", rule: BY_NAME, says: /Temporal/ },
  // region never imports api or rack
  { file: 'src/region/services/planted.ts', code: "import '../../api/app';", rule: ZONE, says: /region never/ },
  {
    file: 'src/region/services/network/planted.ts',
    code: "import '../../../rack/backoff';",
    rule: ZONE,
    says: /region never/,
  },
  { file: 'src/region/planted.ts', code: "import '../activities/rack/index';", rule: ZONE, says: /region never/ },
  {
    file: 'src/region/planted.ts',
    code: "export const f = () => import('../api/app');",
    rule: SYNTAX,
    says: /dynamic import/,
  },
  // region activities: contracts and region only
  { file: 'src/activities/region/planted.ts', code: "import '../../api/app';", rule: ZONE, says: /Region activities/ },
  {
    file: 'src/activities/region/planted.ts',
    code: "import '../../workflows/steps';",
    rule: ZONE,
    says: /Region activities/,
  },
  // api never imports rack, workflows, activities
  { file: 'src/api/planted.ts', code: "import '../rack/backoff';", rule: ZONE, says: /api never/ },
  { file: 'src/api/resources/planted.ts', code: "import '../../workflows/steps';", rule: ZONE, says: /api never/ },
  {
    file: 'src/api/http/deep/planted.ts',
    code: "import '../../../activities/region/index';",
    rule: ZONE,
    says: /api never/,
  },
  // An import that does not resolve (e.g. a bare folder without index) cannot hide from the zones.
  { file: 'src/workflows/planted.ts', code: "import '../runtime';", rule: 'import-x/no-unresolved', says: /runtime/ },
  // A cycle: transitions.ts imports events.ts (recordEvent), so events importing transitions closes one.
  {
    file: 'src/region/services/events.ts',
    code: "import { changeStatus } from './transitions';\nexport const c = changeStatus;",
    rule: 'import-x/no-cycle',
    says: /cycle/,
  },
];

const allowed: Array<{ file: string; code: string }> = [
  { file: 'src/contracts/planted.ts', code: "import './lifecycle';\nimport './workflows';" },
  {
    file: 'src/workflows/deep/planted.ts',
    code: "import '@temporalio/workflow';\nimport '../../contracts/workflows';\nimport '../steps';",
  },
  {
    file: 'src/rack/power/planted.ts',
    code: "import '../backoff';\nimport '../../contracts/rack-api';\nimport '@temporalio/worker';\nimport 'node:fs';\nimport '../../activities/rack/index';",
  },
  { file: 'src/activities/rack/planted.ts', code: "import '../../rack/backoff';\nimport '@temporalio/activity';" },
  {
    file: 'src/region/services/planted.ts',
    code: "import '../../contracts/lifecycle';\nimport '../errors';\nimport 'typeorm';\nimport '@temporalio/client';",
  },
  { file: 'src/activities/region/planted.ts', code: "import '../../region/services/transitions';\nimport 'typeorm';" },
  {
    file: 'src/api/resources/planted.ts',
    code: "import '../../region/errors';\nimport '../../contracts/power';\nimport 'koa';",
  },
  // The composition root and process plumbing import anything, lazily too.
  {
    file: 'src/cli/planted.ts',
    code: "import '../rack/backoff';\nimport '../region/ids';\nexport const f = () => import('../api/app');",
  },
  // The real events.ts (no cycle) passes.
  {
    file: 'src/region/services/planted-events.ts',
    code: "import { recordEvent } from './events';\nexport const r = recordEvent;",
  },
];

describe('lint: the import rules of ARCHITECTURE.md', () => {
  for (const p of planted) {
    it(`${p.rule} reports ${p.file}: ${p.code.split('\n')[0]}`, async () => {
      const messages = await lint(p.file, p.code);
      const hit = messages.find((m) => m.ruleId === p.rule);
      assert.ok(hit, `expected ${p.rule}, got ${JSON.stringify(messages.map((m) => [m.ruleId, m.message]))}`);
      assert.match(hit.message, p.says);
    });
  }

  for (const a of allowed) {
    it(`allows ${a.file}: ${a.code.replaceAll('\n', ' ')}`, async () => {
      assert.deepEqual(
        (await lint(a.file, a.code)).map((m) => [m.ruleId, m.message]),
        [],
      );
    });
  }
});
