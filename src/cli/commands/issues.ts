import { datasetIssues, type DatasetIssues } from '../../datatools/issues.js';
import { validateDatasetName } from '../../layout.js';
import { intOption, parse } from '../args.js';
import type { CliIo, Command } from '../io.js';
import { FEATURE_CACHE_USAGE, featureCacheOptions, featurePipeline, openFeatureStore } from './feature-cache.js';

const score = (v: number) => v.toFixed(3);

function printIssues(issues: DatasetIssues, top: number, io: CliIo): void {
  const more = (n: number) => (n > top ? `  … ${n - top} more (--top, or --json for all)` : undefined);
  const list = <T>(title: string, items: T[], line: (item: T) => string) => {
    io.out(`${title}: ${items.length}`);
    for (const item of items.slice(0, top)) io.out(`  ${line(item)}`);
    const rest = more(items.length);
    if (rest) io.out(rest);
  };
  const how = issues.cached ? 'from the cache' : `computed in ${(issues.computeMs / 1000).toFixed(1)} s, cached for GET /datasets/${issues.dataset}/issues`;
  io.out(`${issues.dataset}: ${issues.images} images, ${issues.namespace} (${how})`);
  list('duplicates', issues.duplicates, (d) => `${score(d.score)} ${d.kind.padEnd(9)} ${d.keys.join('  ')}`);
  if (issues.against !== undefined) list(`leakage into ${issues.against}`, issues.leakage, (l) => `${score(l.score)} ${l.kind.padEnd(9)} ${l.key} = ${l.otherKey}`);
  list(`label issues (${issues.method.labelIssues})`, issues.labelIssues, (i) => `${score(i.score)} ${i.key}: given '${i.givenLabel}', suggested '${i.suggestedLabel}'`);
  list('outliers', issues.outliers, (o) => `${score(o.score)} ${o.key} (${o.label})`);
  for (const note of issues.notes) io.out(`note: ${note}`);
}

export const issuesCommand: Command = {
  name: 'issues',
  summary: "a dataset's duplicates, leakage into another, likely label errors and outliers, from its cached features (any size; cached for the API)",
  usage: `headstart issues <dataset> [--against <other dataset>] ${FEATURE_CACHE_USAGE} [--top 10] [--json]`,
  async run(args, io) {
    const { values, positionals } = parse(args, { ...featureCacheOptions, against: { type: 'string' }, top: { type: 'string' } }, { minPositionals: 1 });
    const dataset = validateDatasetName(positionals[0]!);
    const against = values.against === undefined ? undefined : validateDatasetName(values.against);
    const top = intOption(values.top, 'top', 10);
    const source = await openFeatureStore(values);
    const pipeline = await featurePipeline(values, false);
    try {
      // No size limit here: this is where a dataset too large for a request gets its answer (GET .../issues then reads it).
      const issues = await datasetIssues(source.store, pipeline.namespace, dataset, { against, maxImages: Infinity });
      if (values.json) io.out(JSON.stringify(issues, null, 2));
      else printIssues(issues, top, io);
      return 0;
    } finally {
      pipeline.dispose();
    }
  },
};
