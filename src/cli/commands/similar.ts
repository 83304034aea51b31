import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { NotExtractedError } from '../../datatools/errors.js';
import { cachedImageFeatures, MAX_SIMILAR_K, similarImages } from '../../datatools/similar.js';
import { loadBuiltDatasetFeatures } from '../../features/shards.js';
import { PREFIX, safePath, validateDatasetName } from '../../layout.js';
import { intOption, parse } from '../args.js';
import { UsageError, type Command } from '../io.js';
import { FEATURE_CACHE_USAGE, featureCacheOptions, featurePipeline, openFeatureStore } from './feature-cache.js';

export const similarCommand: Command = {
  name: 'similar',
  summary: "the images of a dataset most like an image file or an extracted key (cosine on the cached features)",
  usage: `headstart similar <image file | images/<dataset>/<label>/<file>> --dataset <name> [--k 10] ${FEATURE_CACHE_USAGE} [--json]`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...featureCacheOptions, dataset: { type: 'string', short: 'd' }, k: { type: 'string' } }, { minPositionals: 1 });
    if (!values.dataset) throw new UsageError('--dataset <name> is required: the dataset to search');
    const dataset = validateDatasetName(values.dataset);
    const k = intOption(values.k, 'k', 10);
    if (k > MAX_SIMILAR_K) throw new UsageError(`--k must be at most ${MAX_SIMILAR_K}, got ${k}`);
    const query = positionals[0]!;
    // A path that exists here is an image file; else `images/…` is a key in the bucket.
    const key = query.startsWith(PREFIX.images) && !existsSync(query) ? safePath(query, 'image key') : undefined;
    const source = await openFeatureStore(values);
    // A cached key needs the model only for its namespace; an image file is extracted here.
    const pipeline = await featurePipeline(values, key === undefined);
    try {
      let vector: Float32Array;
      if (key !== undefined) {
        const cached = await cachedImageFeatures(source.store, pipeline.namespace, key);
        if (!cached) throw new NotExtractedError(key);
        vector = cached;
      } else {
        const [result] = await pipeline.extract([await readFile(query)]);
        if (!result!.ok) throw result!.error;
        vector = result!.features;
      }
      const data = await loadBuiltDatasetFeatures(source.store, pipeline.namespace, dataset);
      const neighbours = similarImages(data, vector, k, key);
      if (values.json) io.out(JSON.stringify({ dataset, k, namespace: data.manifest.namespace, query, neighbours }, null, 2));
      else for (const n of neighbours) io.out(`${n.score.toFixed(4)}  ${n.label.padEnd(12)}  ${n.key}`);
      return 0;
    } finally {
      pipeline.dispose();
    }
  },
};
