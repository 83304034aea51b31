// Bundles the Lambda image's handlers with esbuild (a dev dependency), as the image's build stage runs it and
// the artifact harness (test/helpers/lambda-artifacts.ts) reproduces it:
//   node docker/extract/bundle.mjs <outdir> extract=<entry.ts> classify=<entry.ts>
// Plain JavaScript on purpose: it runs in a Lambda base stage, where only node/npm ship (no tsx before npm ci).
// Only our code is bundled (packages external): dependencies load from the task root's node_modules.
import { build } from 'esbuild';

const [outdir, ...pairs] = process.argv.slice(2);
if (!outdir || pairs.length === 0 || pairs.some((p) => !/^[a-z-]+=.+/.test(p))) {
  console.error('usage: node docker/extract/bundle.mjs <outdir> <name>=<entry.ts> [<name>=<entry.ts> ...]');
  process.exit(2);
}
await build({
  entryPoints: Object.fromEntries(pairs.map((p) => p.split(/=(.*)/s, 2))),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node22',
  packages: 'external',
  outdir,
  outExtension: { '.js': '.mjs' },
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
