// The artifact harness's stand-in for Lambda's nodejs22.x runtime interface client (run under Node 22, inside
// the sandbox: read access to the task root, /opt and this folder only, writes to /tmp only). It loads the
// handler the way the runtime does ("<file>.<export>", file = .mjs, .js or .cjs in LAMBDA_TASK_ROOT), then
// invokes it once per event, in order, in this one process: the first invocation is the cold one.
//   node bootstrap.mjs <handler> <events.json>
// Prints one line: @@RESULT {"importMs", "invocations": [{ "ms", "ok", "value" | "error" }], "coldStartMs", "maxRssBytes"}.
import { constants as cryptoConstants } from 'node:crypto';
import { constants as fsConstants, existsSync, readFileSync } from 'node:fs';
import { registerHooks } from 'node:module';
import { constants as osConstants } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';

import { resolve } from './resolve-hooks.mjs';

registerHooks({ resolve });

// Node's permission model denies process.binding altogether; Lambda runs without it, where the deprecated
// process.binding('constants') still answers. Emscripten's NODEFS (h5wasm, which the image's handlers import)
// reads the fs flags through it as it loads: answer that one from the public constants, deny the rest as before.
if (process.permission) {
  const binding = process.binding.bind(process);
  const constants = { fs: fsConstants, os: osConstants, crypto: cryptoConstants };
  process.binding = (name) => (name === 'constants' ? constants : binding(name));
}

const [handlerSpec, eventsFile] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
const [file, exportName] = [handlerSpec.slice(0, dot), handlerSpec.slice(dot + 1)];
const root = process.env.LAMBDA_TASK_ROOT;
const candidates = ['.mjs', '.js', '.cjs'].map((ext) => join(root, file + ext));
const modulePath = candidates.find((path) => existsSync(path));
const events = JSON.parse(readFileSync(eventsFile, 'utf8'));
const memoryMb = Number(process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
const timeoutMs = Number(process.env.HARNESS_TIMEOUT_MS);

function context(i, deadline) {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${process.env.AWS_REGION}:123456789012:function:${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    memoryLimitInMB: String(memoryMb),
    awsRequestId: `harness-${i}`,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'harness',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

const describe = (error) => ({ name: error?.name, code: error?.code, message: String(error?.message ?? error), stack: error?.stack });
// performance.now() counts from the process's start: coldStartMs is Node's own start + import + first invocation.
const result = { importMs: null, invocations: [], coldStartMs: null, maxRssBytes: 0 };
const t0 = performance.now();
try {
  if (!modulePath) throw new Error(`Runtime.ImportModuleError: no ${file}.mjs, .js or .cjs in ${root}`);
  const mod = await import(pathToFileURL(modulePath).href);
  result.importMs = performance.now() - t0;
  const handler = mod[exportName];
  if (typeof handler !== 'function') throw new Error(`Runtime.HandlerNotFound: ${file}.${exportName} is not a function`);
  for (const [i, event] of events.entries()) {
    const start = performance.now();
    try {
      const value = await handler(event, context(i, Date.now() + timeoutMs));
      result.invocations.push({ ms: performance.now() - start, ok: true, value });
    } catch (error) {
      result.invocations.push({ ms: performance.now() - start, ok: false, error: describe(error) });
    }
    if (i === 0) result.coldStartMs = performance.now();
  }
} catch (error) {
  result.invocations.push({ ms: performance.now() - t0, ok: false, error: describe(error) });
}
result.maxRssBytes = process.resourceUsage().maxRSS * 1024;
process.stdout.write(`\n@@RESULT ${JSON.stringify(result)}\n`);
process.exit(0);
