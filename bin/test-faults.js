#!/usr/bin/env node
// `npm run test:faults`: the fault-injection suite at full length (issue 15). The scenarios `npm test` runs
// short (kill -9 of the stack and of its S3 process, corrupt and deleted features, a full disk), here on every
// fixture image, then the load test: 8-way /classify with good and bad images for HEADSTART_LOAD_SECONDS
// (default 180). Arguments go to vitest.
import { spawnSync } from 'node:child_process';

const FILES = [
  'test/integration/crash-recovery.test.ts',
  'test/integration/local-s3-supervision.test.ts',
  'test/integration/storage-full.test.ts',
  'test/integration/faults.test.ts',
  'test/integration/load.test.ts',
];
const env = { ...process.env, HEADSTART_FAULTS_LONG: '1', HEADSTART_LOAD_SECONDS: process.env.HEADSTART_LOAD_SECONDS ?? '180' };
const run = spawnSync(process.execPath, ['node_modules/vitest/vitest.mjs', 'run', ...FILES, '--maxWorkers=1', ...process.argv.slice(2)], { stdio: 'inherit', env });
process.exit(run.status ?? 1);
