// prepack: copy the repository's one model file (runtime/models/fahrenheit.onnx, shared with the
// Python package) into this package's models/, so a packed fclf-edge carries its default model.
// postpack (--remove): delete the copy again; the repository keeps a single copy.

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = fileURLToPath(new URL('../../models/fahrenheit.onnx', import.meta.url));
const folder = fileURLToPath(new URL('../models/', import.meta.url));

if (process.argv.includes('--remove')) {
  rmSync(folder, { recursive: true, force: true });
} else {
  mkdirSync(folder, { recursive: true });
  copyFileSync(source, `${folder}fahrenheit.onnx`);
}
