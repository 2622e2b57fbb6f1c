// Classifier: the fclf-edge model in onnxruntime-node, behind a small API (the same as the
// Python runtime's Classifier: runtime/classifier.py).

import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import * as ort from 'onnxruntime-node';

import { ModelError } from './errors.js';
import { text } from './messages.js';
import { isOrtFormat, readMetadata } from './model-file.js';
import { dictRepr, shapeRepr } from './pyformat.js';
import { asBatch } from './validate.js';

export const INPUT_NAME = 'fahrenheit';
export const PROBABILITY_OUTPUT = 'probability';
export const LABEL_OUTPUT = 'label';

const here = dirname(fileURLToPath(import.meta.url));
// The repository keeps one copy of the model, runtime/models/fahrenheit.onnx, shared with the
// Python package; a packed npm package carries a copy in its own models/ (made at prepack).
const BUNDLED = [
  join(here, '..', 'models', 'fahrenheit.onnx'),
  join(here, '..', '..', 'models', 'fahrenheit.onnx'),
];

/** The bundled model's path: the package's own copy, else the repository's. */
export function defaultModelPath() {
  return resolve(BUNDLED.find((path) => existsSync(path)) ?? BUNDLED[1]);
}

// onnxruntime's JavaScript names for tensor types, and ONNX's (what the Python CLI prints).
const ONNX_TYPE = {
  float32: 'float',
  float64: 'double',
  float16: 'float16',
  int8: 'int8',
  int16: 'int16',
  int32: 'int32',
  int64: 'int64',
  uint8: 'uint8',
  uint16: 'uint16',
  uint32: 'uint32',
  uint64: 'uint64',
  bool: 'bool',
  string: 'string',
};

/** ONNX's name for a value's type, as Python's onnxruntime prints it: tensor(float). */
export function onnxType(meta) {
  if (!meta.isTensor) return 'non-tensor';
  return `tensor(${ONNX_TYPE[meta.type] ?? meta.type})`;
}

const EXPECTED = text('model.expected');

/** The path as Python's pathlib prints it: no doubled slashes, no '.' parts, no trailing slash. */
function cleanPath(path) {
  const absolute = path.startsWith('/');
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  const joined = parts.join('/');
  return absolute ? `/${joined}` : joined || '.';
}

function readModel(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new ModelError(text('model.not_found', { path }));
  }
  if (stats.isDirectory()) throw new ModelError(text('model.directory', { path }));
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const reason = error.code === 'EACCES' ? 'permission denied' : error.message;
    throw new ModelError(text('model.unreadable', { path, reason }));
  }
  if (bytes.length === 0) throw new ModelError(text('model.empty', { path }));
  return bytes;
}

function loadFailure(path, error) {
  const message = String(error?.message ?? error)
    .split(/\s+/)
    .join(' ')
    .trim();
  // onnxruntime prefixes "[ONNXRuntimeError] : 7 : INVALID_PROTOBUF : ..."; keep the message.
  let tail = message.includes(' : ') ? message.split(' : ').at(-1) : message;
  if (tail.length > 160) tail = `${tail.slice(0, 157)}...`;
  const lowered = message.toLowerCase();
  if (
    lowered.includes('opset') ||
    lowered.includes('ir version') ||
    lowered.includes('ir_version')
  ) {
    const version = ort.env.versions.common;
    return text('model.newer_opset', { path, version, detail: tail, package: 'onnxruntime-node' });
  }
  return text('model.invalid', { path, detail: tail });
}

/**
 * Classify Fahrenheit temperatures as above freezing (1) or not (0).
 *
 * Create one with `await Classifier.load(path)`; one onnxruntime session per Classifier.
 */
export class Classifier {
  #session;
  #bytes;
  #metadata = null;

  constructor(path, bytes, session) {
    /** The model file's path (the bundled model's absolute path when none was given). */
    this.path = path;
    this.#bytes = bytes;
    this.#session = session;
  }

  /**
   * Load an .onnx or .ort model; no path loads the bundled model.
   * `threads`: onnxruntime intra-op threads (1: a five-op graph gains nothing from more).
   */
  static async load(path, { threads = 1 } = {}) {
    const shown =
      path === undefined || path === null ? defaultModelPath() : cleanPath(String(path));
    const bytes = readModel(shown);
    let session;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        logSeverityLevel: 3, // errors only: warnings would clutter a command's stderr
        // No busy-waiting threads: spinning burns CPU on small devices for no gain here.
        extra: {
          session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } },
        },
      });
    } catch (error) {
      throw new ModelError(loadFailure(shown, error));
    }
    const classifier = new Classifier(shown, bytes, session);
    classifier.#checkSignature();
    return classifier;
  }

  #checkSignature() {
    const inputs = Object.fromEntries(
      this.#session.inputMetadata.map((m) => [m.name, onnxType(m)]),
    );
    const outputs = Object.fromEntries(
      this.#session.outputMetadata.map((m) => [m.name, onnxType(m)]),
    );
    const inputOk = Object.keys(inputs).length === 1 && inputs[INPUT_NAME] === 'tensor(float)';
    const outputsOk =
      outputs[PROBABILITY_OUTPUT] === 'tensor(float)' && outputs[LABEL_OUTPUT] === 'tensor(int64)';
    if (!inputOk || !outputsOk) {
      throw new ModelError(
        text('model.not_fclf', {
          path: this.path,
          inputs: dictRepr(inputs),
          outputs: dictRepr(outputs),
          expected: EXPECTED,
        }),
      );
    }
    const shape = this.#session.inputMetadata[0].shape;
    if (shape.length !== 1) {
      throw new ModelError(
        text('model.input_shape', { path: this.path, shape: shapeRepr(shape), expected: EXPECTED }),
      );
    }
  }

  /** The model's metadata_props (units, boundary_fahrenheit, weight, training_config, ...). */
  get metadata() {
    if (this.#metadata === null) {
      try {
        this.#metadata = Object.freeze(readMetadata(this.#bytes));
      } catch (error) {
        throw new ModelError(`${this.path}: cannot read its metadata (${error.message})`);
      }
    }
    return this.#metadata;
  }

  /** The learned boundary in °F (label 1 above it), from the metadata; null if absent. */
  get boundary() {
    const value = this.metadata.boundary_fahrenheit;
    return value === undefined ? null : Number(value);
  }

  /** 'ort' for an ORT-format model, else 'onnx'. */
  get format() {
    return isOrtFormat(this.#bytes) ? 'ort' : 'onnx';
  }

  /** Model file size in bytes. */
  get size() {
    return this.#bytes.length;
  }

  /** The underlying onnxruntime session (for inspection; prefer the predict methods). */
  get session() {
    return this.#session;
  }

  /** The model file's bytes (verify's workers open their own sessions from them). */
  get bytes() {
    return this.#bytes;
  }

  /**
   * Run an already validated Float32Array (the streaming path; no checks).
   * Returns {labels: BigInt64Array, probabilities: Float32Array | null}.
   */
  async predictBatch(batch, { proba = false } = {}) {
    const feeds = { [INPUT_NAME]: new ort.Tensor('float32', batch, [batch.length]) };
    const names = proba ? [LABEL_OUTPUT, PROBABILITY_OUTPUT] : [LABEL_OUTPUT];
    const results = await this.#session.run(feeds, names);
    return {
      labels: results[LABEL_OUTPUT].data,
      probabilities: proba ? results[PROBABILITY_OUTPUT].data : null,
    };
  }

  async #run(values, proba) {
    const { batch, scalar } = asBatch(values);
    if (batch.length === 0) return { labels: [], probabilities: [], scalar };
    const { labels, probabilities } = await this.predictBatch(batch, { proba });
    return {
      labels: Array.from(labels, Number), // int64 comes back as BigInt: plain numbers here
      probabilities: probabilities === null ? null : Array.from(probabilities),
      scalar,
    };
  }

  /**
   * Labels: 1 = above freezing, 0 = at or below, in input order. A number in gives a number out.
   * Throws InvalidInputError (with `.index`) for NaN, infinities, text, values below absolute
   * zero or beyond float32.
   */
  async predict(values) {
    const { labels, scalar } = await this.#run(values, false);
    return scalar ? labels[0] : labels;
  }

  /** Probabilities of "above freezing" (0.5 at the boundary). Throws as `predict`. */
  async predictProba(values) {
    const { probabilities, scalar } = await this.#run(values, true);
    return scalar ? probabilities[0] : probabilities;
  }

  /** {labels, probabilities} from one run, always as arrays. Throws as `predict`. */
  async predictWithProba(values) {
    const { labels, probabilities } = await this.#run(values, true);
    return { labels, probabilities };
  }

  /** Free the onnxruntime session. */
  async release() {
    await this.#session.release();
  }
}
