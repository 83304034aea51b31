// Prunes a production node_modules for a linux-x64 image: other platforms' ONNX Runtime binaries (~245 MB of
// 290) and source maps. Node instead of `find`: Lambda base images are AL2023-minimal and ship no findutils
// (aws/aws-lambda-base-images#173). The artifact harness (test/helpers/lambda-artifacts.ts) runs it too.
//   node docker/prune-node-modules.mjs <node_modules>
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const root = process.argv[2];
if (!root) {
  console.error('usage: node docker/prune-node-modules.mjs <node_modules>');
  process.exit(2);
}
const ortBin = join(root, 'onnxruntime-node', 'bin', 'napi-v6');
for (const other of ['win32', 'darwin', join('linux', 'arm64')]) rmSync(join(ortBin, other), { recursive: true, force: true });
let maps = 0;
for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
  if (entry.isFile() && entry.name.endsWith('.map')) {
    rmSync(join(entry.parentPath, entry.name));
    maps += 1;
  }
}
console.log(`pruned ${root}: other platforms' onnxruntime-node binaries, ${maps} source maps`);
