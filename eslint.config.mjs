// @ts-check
import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * Import boundaries between modules: a lower module never imports a higher one. From the bottom:
 * config, database, redis; audit (the append-only audit log every admin, support and inspector action
 * writes in its own transaction, so every module may record through it); gate-state (the gates' Redis state, its keys and Lua scripts); payments
 * (wallets, ledger); tickets; bank-cards (card ids, the acquirer, charges, debts); media (an account's cards); validation (the gate path); then settlement, cli and docs at the top.
 * The riders' and staff's modules (journeys, support, inspection, notifications, reports), the
 * console and payment-outcomes (the gateway's webhook, settling orders and penalty fares) sit above all of these. Each entry: the folder, and the folders it may not import.
 */
const RIDER_SERVICES = ['journeys', 'support', 'inspection', 'notifications', 'reports', 'console', 'payment-outcomes'];
const LAYERS = [
  ['config', ['audit', 'database', 'redis', 'gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'common', 'cli', 'docs', ...RIDER_SERVICES]],
  ['database', ['audit', 'redis', 'gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  // A migration that fills a new column may use a pure function of accounts (email skeletons), nothing above.
  ['database/migrations', ['audit', 'redis', 'gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  ['redis', ['audit', 'database', 'gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  ['fares/domain', ['audit', 'gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  ['audit', ['gate-state', 'payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  ['gate-state', ['payments', 'tickets', 'bank-cards', 'media', 'validation', 'settlement', 'accounts', 'devices', 'cli', 'docs', ...RIDER_SERVICES]],
  ['payments', ['tickets', 'bank-cards', 'media', 'validation', 'settlement', 'cli', 'docs', ...RIDER_SERVICES]],
  ['tickets', ['bank-cards', 'media', 'validation', 'settlement', 'cli', 'docs', ...RIDER_SERVICES]],
  // Bank cards: card ids for the gate path, the acquirer, charges and debts; below media (which links cards) and validation.
  ['bank-cards', ['media', 'validation', 'settlement', 'cli', 'docs', ...RIDER_SERVICES]],
  // Media of an account: above accounts, gate-state, payments and tickets (the app's credential), below the gate path.
  ['media', ['validation', 'settlement', 'cli', 'docs', ...RIDER_SERVICES]],
  ['validation', ['settlement', 'cli', 'docs', ...RIDER_SERVICES]],
  ['settlement', ['cli', 'docs', ...RIDER_SERVICES]],
];
/** Each folder's own rule; a sub-folder listed on its own (database/migrations) is left out of its parent's. */
const boundaries = LAYERS.map(([folder, higher]) => ({
  files: [`src/${folder}/**/*.ts`],
  ignores: LAYERS.map(([other]) => other).filter((other) => other.startsWith(`${folder}/`)).map((other) => `src/${other}/**`),
  rules: {
    'no-restricted-imports': [
      'error',
      { patterns: [{ group: [...higher.map((name) => `**/${name}/*`), '!**/test/**'], message: `src/${folder} sits below these modules and may not import them (eslint.config.mjs LAYERS).` }] },
    ],
  },
}));

export default tseslint.config(
  { ignores: ['dist/', 'coverage/', 'node_modules/', '.local/', 'load/', 'test/load/fixtures/', 'jest.config.js', 'eslint.config.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/await-thenable': 'error',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: 'error',
      'no-console': ['error', { allow: ['warn', 'error'] }],
    },
  },
  ...boundaries,
  {
    // The operators' console: plain ES modules that run in the browser, outside the TypeScript project.
    files: ['src/console/public/**/*.js'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['src/console/public/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(
        ['window', 'document', 'navigator', 'localStorage', 'sessionStorage', 'fetch', 'URL', 'URLSearchParams', 'Blob', 'Intl', 'HTMLElement', 'Chart', 'setTimeout', 'console'].map((name) => [name, 'readonly']),
      ),
    },
  },
  {
    // The k6 stand-in: plain ES modules run in a worker thread, outside the TypeScript project (test/load/k6-standin).
    files: ['test/load/k6-standin/**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    files: ['test/load/k6-standin/**/*.mjs'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['globalThis', 'SharedArrayBuffer', 'Atomics', 'Int32Array', 'URL', 'console'].map((name) => [name, 'readonly'])),
    },
  },
  {
    // Tests poke at untyped JSON bodies on purpose.
    files: ['test/**/*.ts', 'src/**/*.spec.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
