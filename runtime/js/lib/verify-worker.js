// One verify worker: its own onnxruntime session, checking chunks of float32 values that it
// generates itself (from bit patterns, or from a seeded generator), so only small results cross
// threads. See verify.js.

import { parentPort, workerData } from 'node:worker_threads';

import * as ort from 'onnxruntime-node';

import { fromOrdinal, toOrdinal } from './floats.js';

const { modelBytes, threshold, chunkSize, maxReported } = workerData;

const session = await ort.InferenceSession.create(modelBytes, {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
// One input and one output buffer for the whole walk, filled in place by onnxruntime (outputs
// given as fetches): flat memory however many values are checked.
const bits = new Uint32Array(chunkSize);
const values = new Float32Array(bits.buffer);
const labels = new BigInt64Array(chunkSize);
const probabilities = new Float32Array(chunkSize);

/** Fill `bits` with `count` bit patterns start, start + step, ... (a run of float32 values). */
function fillRange({ start, count, step }) {
  for (let i = 0; i < count; i++) bits[i] = start + step * i;
  return values.subarray(0, count);
}

/** A small seeded generator (SplitMix32): the same samples for the same seed and chunk. */
function generator(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x9e3779b9) >>> 0;
    let z = state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return ((z ^ (z >>> 16)) >>> 0) / 4294967296;
  };
}

/**
 * `count` random float32 values in [low, high], sorted: half uniform in value (where
 * temperatures are), half uniform over the float32 values themselves (tiny magnitudes and both
 * zeros get tested), as the Python verify samples them.
 */
function fillSamples({ low, high, count, seed, chunk }) {
  const random = generator(Math.imul(seed + 1, 0x27d4eb2d) ^ Math.imul(chunk + 1, 0x165667b1));
  const lo32 = Math.fround(low);
  const hi32 = Math.fround(high);
  const half = Math.floor(count / 2);
  for (let i = 0; i < half; i++) {
    values[i] = Math.min(Math.max(Math.fround(low + random() * (high - low)), lo32), hi32);
  }
  const lo = toOrdinal(low);
  const span = toOrdinal(high) - lo + 1;
  for (let i = half; i < count; i++) {
    const u = random() + random() / 4294967296; // 53 random bits
    values[i] = fromOrdinal(lo + Math.min(Math.floor(u * span), span - 1));
  }
  return values.subarray(0, count).sort();
}

/** Labels against the rule; probabilities monotone (x is sorted) and on the label's side of 0.5. */
function check(x, labels, p) {
  const n = x.length;
  // int64 labels as pairs of int32 words (little-endian): no BigInt per element.
  const words = new Int32Array(labels.buffer, labels.byteOffset, n * 2);
  const first = [];
  let wrong = 0;
  let violations = 0;
  let previous = -Infinity;
  let wrongLow = Infinity; // the lowest and highest input the model gets wrong
  let wrongHigh = -Infinity;
  for (let i = 0; i < n; i++) {
    const xi = x[i];
    // The formula in float64, as the Python verify computes it: C = (F - 32) / 1.8 > 0.
    const want = (threshold === null ? (xi - 32) / 1.8 : xi - threshold) > 0 ? 1 : 0;
    const low = words[2 * i];
    const high = words[2 * i + 1];
    if (low !== want || high !== 0) {
      wrong++;
      if (first.length < maxReported) first.push([xi, Number(labels[i]), want]);
      if (xi < wrongLow) wrongLow = xi;
      if (xi > wrongHigh) wrongHigh = xi;
    }
    const pi = p[i];
    if (pi < previous) violations++;
    previous = pi;
    if (high === 0 && ((low === 1 && pi < 0.5) || (low === 0 && pi > 0.5))) violations++;
  }
  const wrongSpan = wrong ? [wrongLow, wrongHigh] : null;
  return { n, wrong, first, violations, pFirst: p[0], pLast: p[n - 1], wrongSpan };
}

parentPort.on('message', async (job) => {
  if (job === null) {
    await session.release();
    parentPort.close();
    return;
  }
  const x = job.kind === 'range' ? fillRange(job) : fillSamples(job);
  const n = x.length;
  const feeds = { fahrenheit: new ort.Tensor('float32', x, [n]) };
  const fetches = {
    label: new ort.Tensor('int64', labels.subarray(0, n), [n]),
    probability: new ort.Tensor('float32', probabilities.subarray(0, n), [n]),
  };
  await session.run(feeds, fetches);
  const result = check(x, labels.subarray(0, n), probabilities.subarray(0, n));
  parentPort.postMessage({ index: job.index, ...result });
});
parentPort.postMessage({ ready: true });
