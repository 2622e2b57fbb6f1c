// prepack: copy the files the repository keeps once and shares with the Python package into this
// package, so a packed fclf-edge carries them: the default model (runtime/models/fahrenheit.onnx,
// into models/) and the message catalogue (runtime/messages.json, beside package.json).
// postpack (--remove): delete the copies again; the repository keeps a single copy of each.

import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = (path) => fileURLToPath(new URL(path, import.meta.url));
const modelSource = here('../../models/fahrenheit.onnx');
const modelFolder = here('../models/');
const messagesSource = here('../../messages.json');
const messagesCopy = here('../messages.json');

if (process.argv.includes('--remove')) {
  rmSync(modelFolder, { recursive: true, force: true });
  rmSync(messagesCopy, { force: true });
} else {
  mkdirSync(modelFolder, { recursive: true });
  copyFileSync(modelSource, `${modelFolder}fahrenheit.onnx`);
  copyFileSync(messagesSource, messagesCopy);
}
