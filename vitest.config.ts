import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'functions/**/*.test.ts', 'infra/**/*.test.ts', 'local/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    // Model tests hold hundreds of MB of weights each; two forks match this 2-core machine.
    pool: 'forks',
    maxWorkers: 2,
    // Node 20 here, nodejs22.x in Lambda: the SDK's one-line "upgrade Node" notice is noise in test logs.
    // POWERTOOLS_DEV: the logger (src/logger.ts) writes through the global console, so tests can spy on it
    // (as Powertools' own tests do); it also keeps metrics from printing EMF lines.
    // HEADSTART_S3_*: the embedded S3 server's credentials for every server the tests start and every client,
    // CLI and stack they spawn (children inherit them), as a user sets them; the generated kind has its own test.
    env: {
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      POWERTOOLS_DEV: 'true',
      HEADSTART_S3_ACCESS_KEY_ID: 'HSLKTESTSUITE0000001',
      HEADSTART_S3_SECRET_ACCESS_KEY: 'test-suite-secret-of-the-embedded-s3-server',
    },
  },
});
