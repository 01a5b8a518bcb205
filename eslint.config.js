// Type-aware lint. The import-boundary rules enforce DESIGN.md section 2: dependencies point down
// the folder list, and the pure folders never reach for IO, the wall clock or randomness.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import tseslint from 'typescript-eslint';

const IO_MODULES = [
  'fs', 'node:fs', 'fs/promises', 'node:fs/promises', 'better-sqlite3', 'undici', '@parcel/watcher',
  'child_process', 'node:child_process', 'net', 'node:net', 'http', 'node:http', 'kysely', 'os', 'node:os',
];
const ioBan = IO_MODULES.map((name) => ({ name, message: 'The pure core does no IO (DESIGN.md section 2).' }));
const folderBan = (folders) =>
  folders.map((f) => ({ group: [`**/${f}/*`, `../${f}/*`, `../../${f}/*`], message: `This folder may not import from src/${f} (DESIGN.md section 2).` }));
const impureGlobals = [
  { object: 'Date', property: 'now', message: 'Use the injected Clock.' },
  { object: 'Math', property: 'random', message: 'Use injected randomness.' },
  { object: 'crypto', property: 'randomUUID', message: 'Use the injected Ids.' },
];

export default defineConfig(
  { ignores: ['dist/', 'node_modules/', 'bench/results/', 'coverage/', 'bin/', 'scripts/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      'no-restricted-syntax': ['error', { selector: 'ExportDefaultDeclaration', message: 'Named exports only.' }],
    },
  },
  {
    files: ['src/reconcile/**/*.ts', 'src/machines/**/*.ts', 'src/projections/**/*.ts', 'src/lib/**/*.ts', 'src/events/types.ts', 'src/events/upcast.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ioBan, patterns: folderBan(['io', 'actors', 'cli', 'cloud']) }],
      'no-restricted-properties': ['error', ...impureGlobals],
    },
  },
  {
    files: ['src/events/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: folderBan(['actors', 'cli', 'cloud', 'reconcile', 'machines', 'projections']) }],
      'no-restricted-properties': ['error', ...impureGlobals],
    },
  },
  {
    files: ['src/reconcile/**/*.ts', 'src/projections/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { paths: ioBan, patterns: folderBan(['io', 'actors', 'cli', 'cloud', 'machines']) }],
    },
  },
  {
    files: ['src/io/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: folderBan(['actors', 'cli', 'cloud', 'reconcile', 'machines', 'projections', 'events']) }],
    },
  },
  {
    // Tool configuration files must default-export.
    files: ['vitest.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['**/*.test.ts', '**/*.fixture.ts', 'test/**/*.ts', 'property-tests/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
