import type { LayerWeights } from './types.js';

type SourceLayer = LayerWeights[number];

/**
 * Looks up source layers by the name a model layer has. Aliased names win (old Keras names such as
 * DenseNet's 'fc1000' → 'predictions'), then the source's own names (a builder that kept the old name);
 * then '/' and '_' are treated alike,
 * because Keras 3 renamed DenseNet's 'conv1/conv' to 'conv1_conv' while the official .h5 files keep the
 * Keras 2 names.
 */
export class LayerIndex {
  private readonly exact = new Map<string, SourceLayer>();
  private readonly original = new Map<string, SourceLayer>();
  private readonly loose = new Map<string, SourceLayer | null>();

  constructor(
    readonly source: LayerWeights,
    aliases: Record<string, string> = {},
  ) {
    for (const entry of source) {
      const name = aliases[entry.layer] ?? entry.layer;
      this.exact.set(name, entry);
      this.original.set(entry.layer, entry);
      const key = looseKey(name);
      // Two source layers with the same loose key are ambiguous: neither is found loosely.
      this.loose.set(key, this.loose.has(key) ? null : entry);
    }
  }

  find(modelLayerName: string): SourceLayer | undefined {
    return this.exact.get(modelLayerName) ?? this.original.get(modelLayerName) ?? this.loose.get(looseKey(modelLayerName)) ?? undefined;
  }

  /** A few source layer names, for error messages. */
  sampleNames(count = 5): string[] {
    return this.source.slice(0, count).map((l) => l.layer);
  }
}

const looseKey = (name: string): string => name.replaceAll('/', '_');
