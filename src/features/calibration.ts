import { readdir } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { InvalidArgumentError } from '../errors.js';

const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif', '.bmp']);

/**
 * The calibration images for precision 'int8' (`--calibration` on the CLI, HEADSTART_CALIBRATION for the service): the image files under `--calibration <folder>` (class folders
 * included, in name order), else `fallback` (the command's own images).
 */
export async function calibrationImages(folder: string | undefined, fallback: readonly string[] = []): Promise<string[]> {
  if (folder === undefined) return [...fallback];
  const entries = await readdir(folder, { recursive: true }).catch((cause: unknown) => {
    throw new InvalidArgumentError(`--calibration ${folder}: ${(cause as Error).message}`, { cause });
  });
  const images = entries.filter((e) => IMAGE_EXTENSIONS.has(extname(e).toLowerCase())).sort().map((e) => join(folder, e));
  if (images.length === 0) throw new InvalidArgumentError(`--calibration ${folder} holds no images (${[...IMAGE_EXTENSIONS].join(', ')}).`);
  return images;
}
