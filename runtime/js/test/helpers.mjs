// Shared test helpers: the CLI as a child process, and model files made by the Python side
// (an .ort conversion and a foreign model), built once per test file in a temp folder.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const CLI = fileURLToPath(new URL('../bin/fclf-edge.mjs', import.meta.url));
export const MODEL = join(ROOT, 'runtime', 'models', 'fahrenheit.onnx');

/** Run the CLI; resolves to {code, signal, stdout, stderr}. */
export function cli(args, { input = null, stdout = 'pipe', signal = null, afterMs = 0 } = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', stdout, 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    if (input !== null) child.stdin.end(input);
    if (signal) setTimeout(() => child.kill(signal), afterMs);
    child.on('close', (code, sig) => resolve({ code, signal: sig, stdout: out, stderr: err }));
  });
}

/** The Python interpreter of the repository's environment (FCLF_PYTHON overrides it). */
export function python() {
  const candidates = [process.env.FCLF_PYTHON, join(ROOT, '.venv', 'bin', 'python'), 'python3'];
  return candidates.find((p) => p && (p === 'python3' || existsSync(p)));
}

const MAKE_MODELS = `
import sys
from pathlib import Path
import onnx
from onnx import TensorProto, helper
from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort
folder = Path(sys.argv[1])
source = folder / "fahrenheit.onnx"
source.write_bytes(Path(sys.argv[2]).read_bytes())
convert_onnx_models_to_ort(source, output_dir=folder, optimization_styles=[OptimizationStyle.Fixed])
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n"])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n"])
graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "foreign", [x], [y])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
onnx.save(model, folder / "foreign.onnx")
`;

let made = null;

/** {folder, ort, foreign, garbage, empty}: model files for the tests, made once. */
export function models() {
  if (made) return made;
  const folder = mkdtempSync(join(tmpdir(), 'fclf-edge-node-'));
  const result = spawnSync(python(), ['-c', MAKE_MODELS, folder, MODEL], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(
      `cannot make the test models with ${python()}: ${result.stderr || result.error}`,
    );
  }
  writeFileSync(join(folder, 'garbage.onnx'), 'not a model\n');
  writeFileSync(join(folder, 'empty.onnx'), '');
  made = {
    folder,
    ort: join(folder, 'fahrenheit.ort'),
    foreign: join(folder, 'foreign.onnx'),
    garbage: join(folder, 'garbage.onnx'),
    empty: join(folder, 'empty.onnx'),
  };
  return made;
}
