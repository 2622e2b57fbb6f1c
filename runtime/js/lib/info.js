// `fclf-edge info`: what a model file is and how it was made, printed as the Python CLI prints it
// (runtime/info.py), so the two tools' outputs can be compared line for line.

import { createHash } from 'node:crypto';

import { isLosslessNumber, parse } from 'lossless-json';

import { onnxType } from './classifier.js';
import { floatRepr, shapeRepr, strRepr } from './pyformat.js';

/** Python's str() of a value json.loads made: JSON's floats print as repr, ints as ints. */
function pyStr(value, nested = false) {
  if (value === null) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (isLosslessNumber(value)) {
    const text = value.toString();
    return /[.eE]/.test(text) ? floatRepr(Number(text)) : BigInt(text).toString();
  }
  if (typeof value === 'string') return nested ? strRepr(value) : value;
  if (Array.isArray(value)) return `[${value.map((v) => pyStr(v, true)).join(', ')}]`;
  const items = Object.entries(value).map(([k, v]) => `${strRepr(k)}: ${pyStr(v, true)}`);
  return `{${items.join(', ')}}`;
}

function sortedKeys(value) {
  if (Array.isArray(value)) return value.map(sortedKeys);
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value).sort();
  return Object.fromEntries(keys.map((k) => [k, sortedKeys(value[k])]));
}

/** Python's json.dumps(data, indent=2, sort_keys=True): non-ASCII written as \uXXXX escapes. */
function pythonJson(data) {
  return JSON.stringify(sortedKeys(data), null, 2).replace(/[\u007f-\uffff]/g, (ch) =>
    ch === '\u007f' ? ch : `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function values(metas) {
  return metas.map((m) => ({
    name: m.name,
    type: onnxType(m),
    shape: m.isTensor ? [...m.shape] : [],
  }));
}

/** Inputs, outputs, opset, boundary, metadata, size and sha256, as text or one JSON object. */
export function describe(classifier, { json = false } = {}) {
  const { metadata } = classifier;
  const data = {
    path: classifier.path,
    size_bytes: classifier.size,
    sha256: createHash('sha256').update(classifier.bytes).digest('hex'),
    inputs: values(classifier.session.inputMetadata),
    outputs: values(classifier.session.outputMetadata),
    opset: metadata.opset ?? 'unknown',
    metadata: { ...metadata },
  };
  if (json) return pythonJson(data);
  const lines = [
    `path       ${data.path}`,
    `size       ${data.size_bytes} bytes`,
    `sha256     ${data.sha256}`,
    `opset      ${data.opset}`,
  ];
  if (classifier.boundary !== null) {
    lines.push(`boundary   ${floatRepr(classifier.boundary)} °F (${metadata.label_meaning ?? ''})`);
  }
  for (const [kind, entries] of [
    ['input', data.inputs],
    ['output', data.outputs],
  ]) {
    for (const entry of entries) {
      lines.push(`${kind.padEnd(10)} ${entry.name}: ${entry.type} ${shapeRepr(entry.shape)}`);
    }
  }
  lines.push('metadata');
  for (const key of Object.keys(metadata).sort()) {
    let value = metadata[key];
    if (value.startsWith('{')) {
      try {
        value = Object.entries(parse(value))
          .map(([k, v]) => `${k}=${pyStr(v)}`)
          .join(', ');
      } catch {
        // Not JSON after all: show the text as it is.
      }
    }
    lines.push(`  ${key.padEnd(24)} ${value}`);
  }
  return lines.join('\n');
}
