#!/usr/bin/env node
// The bare-clone check (`npm run test:clone [-- <vitest args>]`): what a new user's `npm ci && npm test` does.
// Clones this repository's HEAD into a temp folder with no ../shared beside it, runs `npm ci` there (the npm
// registry is the one network it needs), then `npm test` offline: in a network namespace with only loopback
// (`unshare -n`, root or user namespaces), with an empty weights cache unless HEADSTART_HOME names one.
// Prints the skipped tests with their reasons and exits with the tests' status. The temp folder is removed
// unless --keep is given. --online runs the tests with the network (the real-weights tests then try to pull).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const repo = resolve(import.meta.dirname, '..');
const flags = new Set(process.argv.slice(2).filter((a) => a === '--online' || a === '--keep'));
const vitestArgs = process.argv.slice(2).filter((a) => !flags.has(a));

function run(command, args, options = {}) {
  console.error(`test:clone: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

const root = mkdtempSync(join(tmpdir(), 'headstart-clone-'));
const clone = join(root, 'headstart');
const results = join(root, 'vitest-results.json');
const home = process.env.HEADSTART_HOME || join(root, 'home');
mkdirSync(home, { recursive: true });
let status = 1;
try {
  if (run('git', ['clone', '--quiet', '--no-local', repo, clone]) !== 0) throw new Error('git clone failed');
  if (existsSync(join(root, 'shared'))) throw new Error(`${join(root, 'shared')} exists: the check needs no ../shared beside the clone`);
  if (run('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'], { cwd: clone }) !== 0) throw new Error('npm ci failed');

  const test = ['npm', 'test', '--', '--reporter=default', '--reporter=json', `--outputFile.json=${results}`, ...vitestArgs];
  const env = { ...process.env, HEADSTART_HOME: home };
  console.error(`test:clone: no ../shared beside ${clone}; weights cache ${home}; network ${flags.has('--online') ? 'on' : 'off (loopback only)'}`);
  status = flags.has('--online')
    ? run(test[0], test.slice(1), { cwd: clone, env })
    : run('unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', ...test], { cwd: clone, env });
  listSkips(results, clone);
} catch (error) {
  console.error(`test:clone: ${error.message}`);
  if (error.code === 'ENOENT') console.error(`test:clone: '${error.path}' is not installed (the offline run needs unshare and ip from util-linux/iproute2; or pass --online)`);
} finally {
  if (flags.has('--keep')) console.error(`test:clone: kept ${root}`);
  else rmSync(root, { recursive: true, force: true });
}
process.exit(status);

/** The skipped tests from vitest's JSON report, per file; their describe titles name the reason. */
function listSkips(path, cwd) {
  if (!existsSync(path)) return;
  const report = JSON.parse(readFileSync(path, 'utf8'));
  const skipped = report.testResults.flatMap((file) =>
    file.assertionResults
      .filter((t) => t.status === 'skipped' || t.status === 'pending')
      .map((t) => `${relative(cwd, file.name)} › ${[...t.ancestorTitles, t.title].join(' › ')}`),
  );
  console.log(`\ntest:clone: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped.length} skipped (${report.numTotalTests} tests)`);
  for (const line of skipped) console.log(`  skipped: ${line}`);
}
