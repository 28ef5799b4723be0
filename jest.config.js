/** Unit specs live beside the code; integration and e2e tests under test/ share real Postgres and Redis. */
const transform = { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] };

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60000,
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/**/*.spec.ts'],
      setupFiles: ['reflect-metadata'],
    },
  ],
};
