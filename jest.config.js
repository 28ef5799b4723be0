/** Unit specs live beside the code; integration and e2e tests under test/ share real Postgres and Redis. */

// ts-jest also compiles the few ESM-only packages in node_modules that Jest on Node 20 cannot require.
const ESM_ONLY_PACKAGES = ['content-disposition'];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
};

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60000,
  projects: [
    { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
    { ...shared, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.spec.ts'], setupFiles: ['reflect-metadata'], setupFilesAfterEnv: ['<rootDir>/test/setup/openapi-responses.ts'] },
  ],
};
