import type { Interpolation } from '../zoo/types.js';
import { INPUT_NAME, OUTPUT_NAME } from './graph.js';
import type { ExportFormat } from './formats.js';
import type { ExportSource } from './source.js';

/** PIL's filter for each of headstart's interpolations (src/image/load.ts: nearest exact, the others sharp's kernels). */
const PIL_FILTER: Record<Interpolation, string> = { nearest: 'NEAREST', bilinear: 'BILINEAR', bicubic: 'BICUBIC', lanczos: 'LANCZOS' };

const PREPROCESS_TEXT = {
  caffe: "caffe: RGB → BGR, minus the ImageNet mean [103.939, 116.779, 123.68] (BGR order)",
  tf: 'tf: x / 127.5 − 1',
  torch: 'torch: x / 255, minus [0.485, 0.456, 0.406], over [0.229, 0.224, 0.225]',
} as const;

/**
 * PIL's NEAREST in TF.js, exactly as src/image/resize.ts does it (a running sum in double precision, not the
 * closed form): `tf.image.resizeNearestNeighbor(x, size, false, true)` picks other rows for ratios such as 512 → 224.
 * The bundle README shows it and the export parity test runs this very text.
 */
export const PIL_NEAREST_JS = `// PIL's NEAREST (Keras load_img, headstart): the source row / column of each output one
const pilNearest = (from, to) => { const s = from / to, idx = []; for (let i = 0, p = s / 2; i < to; i++, p += s) idx.push(Math.min(Math.trunc(p), from - 1)); return idx; };
const resize = (pixels, [h, w]) => tf.tidy(() => tf.gather(tf.gather(pixels, pilNearest(pixels.shape[0], h), 0), pilNearest(pixels.shape[1], w), 1));`;

function jsResize(interpolation: Interpolation): string {
  if (interpolation === 'nearest') return PIL_NEAREST_JS;
  return `// headstart resized with ${interpolation} (PIL's ${PIL_FILTER[interpolation]}, antialiased): TF.js has no antialiased resize, so
// a downscale with tf.image.resizeBilinear differs; resize with a canvas (imageSmoothingQuality 'high') or on the server.
const resize = (pixels, size) => tf.image.resizeBilinear(pixels, size, false, true);`;
}

/** The bundle's README.md: what the graph takes and gives, how to resize like headstart, and a Python and a browser example. */
export function bundleReadme(source: ExportSource, format: ExportFormat, files: readonly string[]): string {
  const [height, width] = source.input.size;
  const { interpolation, preprocess } = source.input;
  const what = { classifier: `the ImageNet classifier ${source.model}`, head: `head '${source.id}' on ${source.model}`, finetuned: `fine-tuned model '${source.id}' (${source.model})` }[source.kind];
  const pil = PIL_FILTER[interpolation];
  const dtype = format === 'onnx' ? 'uint8' : 'float32 (values 0–255; `tf.browser.fromPixels` gives int32: cast it)';
  return `# ${source.id}: ${what}, exported by headstart

Files: ${files.map((f) => `\`${f}\``).join(', ')}.

One graph, base and head merged: preprocessing (\`preprocess_input\`, ${PREPROCESS_TEXT[preprocess]}) and the head's
standardization and temperature are inside it. Weights: ${source.model}@${source.weightsDigest}; ${source.labels.length} classes.

- Input \`${INPUT_NAME}\`: RGB pixels \`[N, ${height}, ${width}, 3]\`, ${dtype}, already resized to ${height}×${width}.
- Output \`${OUTPUT_NAME}\`: class probabilities \`[N, ${source.labels.length}]\` in \`labels.json\` order.
- \`parity.json\`: ${'three'} reference inputs (base64 raw RGB bytes) with the probabilities headstart gives them;
  a runtime that matches them within its \`tolerance\` (1e-4) runs this model as headstart does.

## Resizing as headstart does

headstart decodes like Keras \`load_img\`: EXIF orientation applied, alpha dropped, grey replicated to RGB,
then a straight resize to ${width}×${height} (no crop, aspect ratio not kept) with **${interpolation}** interpolation
(PIL's \`${pil}\`${interpolation === 'nearest' ? ', reproduced exactly' : ''}).

Python (Pillow):

\`\`\`python
from PIL import Image, ImageOps
img = ImageOps.exif_transpose(Image.open('photo.jpg')).convert('RGB').resize((${width}, ${height}), Image.${pil})
\`\`\`

JavaScript (TF.js; browsers apply EXIF orientation to an \`<img>\` themselves):

\`\`\`js
${jsResize(interpolation)}
const resized = resize(tf.browser.fromPixels(img), [${height}, ${width}]);   // [${height}, ${width}, 3] int32
\`\`\`

## Python: onnxruntime (the \`format=onnx\` bundle)

\`\`\`python
import json, numpy as np, onnxruntime as ort
from PIL import Image, ImageOps

labels = json.load(open('labels.json'))
session = ort.InferenceSession('model.onnx')
img = ImageOps.exif_transpose(Image.open('photo.jpg')).convert('RGB').resize((${width}, ${height}), Image.${pil})
x = np.asarray(img, dtype=np.uint8)[None]                 # [1, ${height}, ${width}, 3] uint8 RGB
probs = session.run(['${OUTPUT_NAME}'], {'${INPUT_NAME}': x})[0][0]
for i in np.argsort(probs)[::-1][:5]:
    print(labels[i], round(float(probs[i]), 4))
\`\`\`

## Browser: TF.js (the \`format=tfjs\` bundle, plain @tensorflow/tfjs, no custom layers)

\`\`\`html
<img id="photo" src="photo.jpg">
<script src="https://cdn.jsdelivr.net/npm/@tensorflow/tfjs@4.22.0/dist/tf.min.js"></script>
<script type="module">
  // resize(): the function in 'Resizing as headstart does' above
  const model = await tf.loadLayersModel('model.json');
  const labels = await (await fetch('labels.json')).json();
  const probs = tf.tidy(() => {
    const resized = resize(tf.browser.fromPixels(document.getElementById('photo')), [${height}, ${width}]); // int32
    return model.predict(tf.cast(resized, 'float32').expandDims(0)).dataSync();  // the model takes float32
  });
  const top = [...probs].map((p, i) => [p, labels[i]]).sort((a, b) => b[0] - a[0]).slice(0, 5);
  console.log(top);
</script>
\`\`\`
`;
}
