// Module resolution hook of the artifact harness's stand-in for the nodejs22.x runtime. Node itself ignores
// NODE_PATH for ES modules; Lambda's Node runtimes (18 and later) resolve a bare `import` from a layer's
// nodejs/node_modules all the same. This does what they do: the normal lookup first (the task root's
// node_modules), then each node_modules folder on NODE_PATH in order.
import { basename, dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const folders = (process.env.NODE_PATH ?? '').split(':').filter((dir) => basename(dir) === 'node_modules');
const isBare = (specifier) => !/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(specifier);

// In-thread (module.registerHooks): off-thread hooks would need a worker, which the permission model denies.
export function resolve(specifier, context, nextResolve) {
  try {
    return nextResolve(specifier, context);
  } catch (error) {
    if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !isBare(specifier)) throw error;
    for (const folder of folders) {
      try {
        return nextResolve(specifier, { ...context, parentURL: pathToFileURL(join(dirname(folder), '__nodepath__.mjs')).href });
      } catch {
        // not in this one
      }
    }
    throw error;
  }
}
