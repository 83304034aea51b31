import { readFileSync } from 'node:fs';

/** The library version written into every artefact's metadata (features, heads, weights cache). */
export const LIBRARY_VERSION: string = (
  JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
