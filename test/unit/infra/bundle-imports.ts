import { isBuiltin } from 'node:module';

/**
 * The packages an esbuild ESM bundle imports statically (`import … from "x"` / `import "x"` at the start of a
 * line, which is how esbuild emits externals). Those must exist at runtime, in the runtime or a layer;
 * dynamic `import("x")` is left out on purpose: callers guard it (tfjs-node is optional).
 */
export function staticPackageImports(bundle: string): string[] {
  const found = new Set<string>();
  for (const match of bundle.matchAll(/^import\s+(?:[^'";]*?\s+from\s+)?["']([^"']+)["'];?$/gm)) {
    if (!isBuiltin(match[1]) && !match[1].startsWith('.')) found.add(match[1]);
  }
  return [...found].sort();
}
