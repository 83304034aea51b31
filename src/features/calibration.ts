import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp']);

/**
 * The calibration images for precision 'int8' given by `--calibration <folder>` on the CLI (HEADSTART_CALIBRATION for
 * the service): the image files under the folder (class folders included, in name order). Undefined without a
 * folder: the pipeline then calibrates on DEFAULT_CALIBRATION.
 */
export async function calibrationImages(folder: string | undefined): Promise<string[] | undefined> {
  if (folder === undefined) return undefined;
  const entries = await readdir(folder, { recursive: true }).catch((cause: unknown) => {
    throw new InvalidArgumentError(`--calibration ${folder}: ${(cause as Error).message}`, { cause });
  });
  const images = entries.filter((e) => IMAGE_EXTENSIONS.has(extname(e).toLowerCase())).sort().map((e) => join(folder, e));
  if (images.length === 0) throw new InvalidArgumentError(`--calibration ${folder} holds no images (${[...IMAGE_EXTENSIONS].join(', ')}).`);
  return images;
}

/**
 * What every install calibrates int8 on unless told otherwise: 16 crops (256×256 JPEG) of the four licensed photos
 * in test/fixtures/images, made by bin/make-calibration-set.js and carried in the code itself (a JSON module the
 * bundlers inline), so that it works offline in a Lambda task root as on a laptop. One set everywhere also means
 * one int8 graph per model and cut, whichever machine made it first: the `<layer>@int8` namespace does not
 * record the calibration images. A dataset's own images are passed with `--calibration`.
 */
export const DEFAULT_CALIBRATION = 'headstart default set (16 crops of the 4 photos in test/fixtures/images)';

/** The default calibration images' bytes (loaded on first use: fp32 never pays for them). */
export async function defaultCalibrationImages(): Promise<Buffer[]> {
  const set = (await import('./default-calibration.json', { with: { type: 'json' } })).default as { images: Array<{ jpeg: string }> };
  return set.images.map((image) => Buffer.from(image.jpeg, 'base64'));
}
