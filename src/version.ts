/**
 * The library version written into every artefact's metadata (features, heads, weights cache).
 * A constant, not a read of package.json, so bundles (the Lambda images) carry it too; a test keeps
 * it equal to package.json's version.
 */
export const LIBRARY_VERSION = '0.1.0';
