/** Unit specs live beside the code; integration and e2e tests under test/ share real Postgres and Redis. */

// ts-jest also compiles the few ESM-only packages in node_modules that Jest on Node 20 cannot require.
const ESM_ONLY_PACKAGES = ['content-disposition'];
const shared = {
  testEnvironment: 'node',
  transform: { '^.+\\.[tj]s$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY_PACKAGES.join('|')})/)`],
};

const integration = { ...shared, setupFiles: ['reflect-metadata'], setupFilesAfterEnv: ['<rootDir>/test/setup/openapi-responses.ts'] };

/**
 * The gate path's suites, which REDIS_MODE=cluster runs on a 3-master Redis Cluster (README "Redis
 * Cluster"): every suite whose requests or checks go through the gate state, the tap streams or the
 * persister. Left out: suites that start a Redis of their own (outages, the fault drills, the cluster
 * node restart) and the security sweep (it isolates itself in a logical database, which a cluster has not).
 */
const GATE_PATH_SUITES = [
  'e2e/validation.e2e.spec.ts',
  'e2e/validation-persistence.e2e.spec.ts',
  'e2e/gate-findings.e2e.spec.ts',
  'e2e/gate-record.property.e2e.spec.ts',
  'e2e/journeys.e2e.spec.ts',
  'e2e/media.e2e.spec.ts',
  'e2e/media-privacy.e2e.spec.ts',
  'e2e/media-categories.e2e.spec.ts',
  'e2e/bank-card-charges.e2e.spec.ts',
  'e2e/bank-card-linking.e2e.spec.ts',
  'e2e/bank-card-settlement.e2e.spec.ts',
  'e2e/tickets.e2e.spec.ts',
  'e2e/dynamic-qr.e2e.spec.ts',
  'e2e/devices.e2e.spec.ts',
  'integration/gate-durability.spec.ts',
  'integration/gate-sigkill.spec.ts',
  'integration/gate-state.spec.ts',
  'integration/lua-script.spec.ts',
  'integration/wallet-gate-charges.spec.ts',
];

/** @type {import('jest').Config} */
module.exports = {
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60000,
  projects:
    process.env.REDIS_MODE === 'cluster'
      ? [{ ...integration, displayName: 'cluster', testMatch: GATE_PATH_SUITES.map((suite) => `<rootDir>/test/${suite}`) }]
      : [
          { ...shared, displayName: 'unit', testMatch: ['<rootDir>/src/**/*.spec.ts'] },
          { ...integration, displayName: 'integration', testMatch: ['<rootDir>/test/**/*.spec.ts'] },
        ],
};
