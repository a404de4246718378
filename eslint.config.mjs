// Workflow code runs in Temporal's deterministic sandbox: no Node built-ins, no side-effecting packages.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const nodeBuiltins = [
  'assert',
  'buffer',
  'child_process',
  'crypto',
  'dns',
  'events',
  'fs',
  'fs/promises',
  'http',
  'https',
  'net',
  'os',
  'path',
  'process',
  'stream',
  'timers',
  'tls',
  'url',
  'util',
  'worker_threads',
  'zlib',
];

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.tools/', '.gantry/', 'coverage/', '*.js', '*.mjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Workflows and the pure modules they import run inside Temporal's deterministic sandbox.
    files: [
      'workflows/**/*.ts',
      'src/pipeline/**/*.ts',
      'src/analysis/**/*.ts',
      'src/canary/**/*.ts',
      'src/freeze/**/*.ts',
      'src/policy/applyPolicy.ts',
      'src/policy/startClaim.ts',
      'src/policy/policyTypes.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: nodeBuiltins
            .flatMap((m) => [m, `node:${m}`])
            .map((name) => ({ name, message: 'Workflow code must stay deterministic: no Node built-ins.' })),
          patterns: [
            {
              group: ['../activities/*', '../activities', '../../activities/*', '../../activities'],
              allowTypeImports: true,
              message: 'Workflows import only types from activities.',
            },
            {
              group: [
                '@temporalio/client',
                '@temporalio/worker',
                '@temporalio/activity',
                'simple-git',
                '@kubernetes/*',
              ],
              message: 'Workflow code imports only @temporalio/workflow, types and pure modules.',
            },
          ],
        },
      ],
    },
  },
);
