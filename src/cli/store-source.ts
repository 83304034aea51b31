import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { InvalidArgumentError } from '../errors.js';
import { createS3Client, S3Store, type ObjectStore } from '../store/index.js';
import { FileStore } from '../store/file.js';
import { PREFIX } from '../layout.js';

export interface StoreSource {
  store: ObjectStore;
  /** The key prefix the command works under, e.g. `images/fmnist/`. */
  prefix: string;
  describe: string;
}

/**
 * `s3://bucket/images/<dataset>/` (AWS, or the endpoint in --endpoint / HEADSTART_S3_ENDPOINT) or a local
 * folder laid out like the bucket (it holds `images/<dataset>/<label>/<file>`; features are written beside).
 */
export async function openStoreSource(source: string, endpoint = process.env.HEADSTART_S3_ENDPOINT): Promise<StoreSource> {
  const s3 = /^s3:\/\/([^/]+)\/?(.*)$/.exec(source);
  if (s3) {
    const [, bucket, rest] = s3 as unknown as [string, string, string];
    const prefix = rest === '' ? PREFIX.images : rest.endsWith('/') ? rest : `${rest}/`;
    if (!prefix.startsWith(PREFIX.images)) throw new InvalidArgumentError(`'${source}': the prefix must be under images/, e.g. s3://${bucket}/images/<dataset>/`);
    return { store: new S3Store(createS3Client({ endpoint: endpoint || undefined }), bucket), prefix, describe: `s3://${bucket}/${prefix}` };
  }
  const root = resolve(source);
  const info = await stat(root).catch(() => undefined);
  if (!info?.isDirectory()) throw new InvalidArgumentError(`'${source}' is neither an s3:// URL nor a folder.`);
  const images = await stat(resolve(root, 'images')).catch(() => undefined);
  if (!images?.isDirectory()) {
    throw new InvalidArgumentError(
      `'${source}' has no images/ folder: lay it out like the bucket, <dir>/images/<dataset>/<label>/<file>, ` +
        `or upload it with 'headstart upload <dir> --dataset <name>'.`,
    );
  }
  return { store: new FileStore(root), prefix: PREFIX.images, describe: root };
}
