// The import rule of DESIGN.md: core/ imports only core/; app/ imports core/ and ports/;
// adapters/ and sim/ implement ports/ and never import app/ or cli/; only main.ts and
// cli/ know concrete adapters.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const layer = (files, forbidden, message) => ({
  files,
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': ['error', { patterns: [{ group: forbidden, message }] }],
  },
});

const nodeBuiltins = ['node:*', 'fs', 'fs/*', 'http', 'https', 'net', 'os', 'child_process', 'undici', '@kubernetes/*', 'pino', 'prom-client'];

export default tseslint.config(
  { ignores: ['node_modules', 'dist', 'coverage', '.tmp', '.stryker-tmp', 'reports', '**/*.js', '!eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { console: 'readonly', process: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  layer(['src/core/**/*.ts'], [...nodeBuiltins, '**/ports/**', '**/adapters/**', '**/app/**', '**/sim/**', '**/server/**', '**/cli/**', '**/config/**', '**/main.ts'],
    'core/ is pure: it imports only core/ (DESIGN.md, rules of the house).'),
  layer(['src/ports/**/*.ts'], ['**/adapters/**', '**/app/**', '**/sim/**', '**/server/**', '**/cli/**', '**/main.ts'],
    'ports/ name what the app needs; they import only core/.'),
  layer(['src/app/**/*.ts'], ['**/adapters/**', '**/sim/**', '**/server/**', '**/cli/**', '**/main.ts', 'undici', '@kubernetes/*'],
    'app/ imports core/ and ports/ only; concrete adapters are chosen in main.ts and cli/.'),
  layer(['src/adapters/**/*.ts', 'src/sim/**/*.ts'], ['**/app/**', '**/cli/**', '**/main.ts', '**/server/**'],
    'adapters/ and sim/ implement ports/; they do not reach into app/, server/ or cli/.'),
  layer(['src/server/**/*.ts'], ['**/adapters/**', '**/sim/**', '**/cli/**', '**/main.ts'],
    'server/ exposes app/ over HTTP; adapters are wired in main.ts and cli/.'),
  {
    files: ['src/core/**/*.ts'],
    ignores: ['**/*.test.ts'],
    rules: {
      'no-restricted-globals': ['error', 'fetch', 'setTimeout', 'setInterval', 'process'],
      'no-restricted-properties': ['error',
        { object: 'Date', property: 'now', message: 'core/ takes time as input (Clock port).' },
        { object: 'Math', property: 'random', message: 'core/ takes a seeded RNG.' },
        { object: 'console', message: 'core/ returns values with reasons; it does not log.' }],
    },
  },
);
