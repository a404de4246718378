/** Jest runs the TypeScript sources directly through swc; ESM-only packages are transformed too. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest'] },
  transformIgnorePatterns: ['/node_modules/(?!(@kubernetes/client-node|openid-client|oauth4webapi|jose)/)'],
  // Integration tests start real servers; two workers match this machine's two cores.
  maxWorkers: 2,
  testTimeout: 120_000,
};
