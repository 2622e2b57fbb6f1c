import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';

import { Classifier, InvalidInputError, ModelError, defaultModelPath } from 'fclf-edge';

import { MODEL, models } from './helpers.mjs';
import { nextUp } from '../lib/floats.js';

// The formula, computed here independently of the model: C = (F - 32) / 1.8 > 0 on the float32.
const formula = (f) => ((Math.fround(f) - 32) / 1.8 > 0 ? 1 : 0);
const FIXED = [
  33,
  32,
  nextUp(32),
  nextUp(32, -1),
  -40,
  -459.67,
  10000,
  0,
  -0,
  31.999999,
  32.000001,
  98.6,
  1e-45,
  3.4e38,
  -459.6700134277344,
];

test('the bundled model is the repository copy and labels the fixed set as the formula does', async () => {
  const classifier = await Classifier.load();
  assert.equal(classifier.path, defaultModelPath());
  assert.equal(classifier.path, MODEL);
  const labels = await classifier.predict(FIXED);
  assert.deepEqual(labels, FIXED.map(formula));
  assert.ok(labels.every((l) => typeof l === 'number'));
  assert.deepEqual(labels.slice(0, 4), [1, 0, 1, 0]); // 33, 32, the float32 after 32, before 32
  assert.equal(await classifier.predict(33), 1);
  assert.equal(await classifier.predict(32), 0);
});

test('predict accepts arrays, typed arrays, iterables, bigints and (n, 1) columns', async () => {
  const classifier = await Classifier.load(MODEL);
  assert.deepEqual(await classifier.predict(new Float64Array([33, 32])), [1, 0]);
  assert.deepEqual(await classifier.predict(new Float32Array([33, 32])), [1, 0]);
  assert.deepEqual(await classifier.predict(new Int32Array([33, 32])), [1, 0]);
  assert.deepEqual(await classifier.predict(new Set([40, -40])), [1, 0]);
  assert.deepEqual(await classifier.predict([33n, 32n]), [1, 0]);
  assert.deepEqual(await classifier.predict([[33], [32]]), [1, 0]);
  assert.deepEqual(await classifier.predict([]), []);
});

test('predictWithProba gives labels and float32 probabilities from one run', async () => {
  const classifier = await Classifier.load();
  const { labels, probabilities } = await classifier.predictWithProba([33, 32, -40]);
  assert.deepEqual(labels, [1, 0, 0]);
  assert.equal(probabilities[0], Math.fround(0.598645568));
  assert.equal(probabilities[1], 0.5);
  assert.ok(probabilities[2] > 0 && probabilities[2] < 1e-12);
  assert.equal(await classifier.predictProba(32), 0.5);
});

test('invalid values throw InvalidInputError naming the first bad index', async () => {
  const classifier = await Classifier.load();
  const cases = [
    [[20, NaN], 1, /value nan at index 1 NaN is not a temperature/],
    [[Infinity], 0, /infinity is not a temperature/],
    [[1, 2, -Infinity], 2, /infinity/],
    [[0, -459.68], 1, /value -459\.68 at index 1 is below absolute zero \(-459\.67 °F\)/],
    [[3.5e38], 0, /overflows float32/],
    [[-3.5e38], 0, /overflows float32/],
    [[1, '33'], 1, /expected real numbers, got '33' at index 1/],
    [[true], 0, /got true at index 0/],
    [[1, null], 1, /got null at index 1/],
    [[2n ** 200n], 0, /overflows float32/],
  ];
  for (const [values, index, message] of cases) {
    await assert.rejects(classifier.predict(values), (error) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.equal(error.index, index);
      assert.match(error.message, message);
      assert.equal(error.exitCode, 2);
      return true;
    });
  }
  await assert.rejects(classifier.predict('33'), /expected numbers, got text '33'/);
  await assert.rejects(
    classifier.predict(NaN),
    (e) => e instanceof InvalidInputError && e.index === 0,
  );
  await assert.rejects(classifier.predictWithProba([-500]), InvalidInputError);
  // float32(-459.67) itself is the lowest valid input, as in Python.
  assert.deepEqual(await classifier.predict([-459.67, Math.fround(-459.67)]), [0, 0]);
});

test('metadata and boundary come from the model file', async () => {
  const classifier = await Classifier.load();
  assert.equal(classifier.boundary, 32);
  assert.equal(classifier.metadata.boundary_fahrenheit, '32.0');
  assert.match(classifier.metadata.units, /fahrenheit/);
  assert.ok(Number(classifier.metadata.weight) > 0);
  assert.equal(JSON.parse(classifier.metadata.training_config).seed, 0);
  assert.equal(classifier.format, 'onnx');
  assert.equal(classifier.size, readFileSync(MODEL).length);
  assert.throws(() => {
    classifier.metadata.units = 'x';
  }, TypeError);
});

test('an .ort conversion gives the same labels, probabilities and metadata', async () => {
  const onnx = await Classifier.load(MODEL);
  const ort = await Classifier.load(models().ort);
  assert.equal(ort.format, 'ort');
  const values = [...FIXED];
  for (let i = -1000; i <= 1000; i++) values.push(nextUp(32, i));
  for (let i = 0; i < 5000; i++) values.push(-459.67 + (10459.67 * i) / 4999);
  const a = await onnx.predictWithProba(values);
  const b = await ort.predictWithProba(values);
  assert.deepEqual(b.labels, a.labels);
  assert.deepEqual(b.labels, values.map(formula));
  assert.deepEqual(b.probabilities, a.probabilities);
  assert.deepEqual(ort.metadata, onnx.metadata);
  assert.equal(ort.boundary, 32);
});

test('bad model files are ModelErrors with one-line reasons', async () => {
  const { foreign, garbage, empty, folder } = models();
  const cases = [
    ['/nonexistent/model.onnx', /^model file not found: \/nonexistent\/model\.onnx$/],
    [folder, /^model path is a directory, not an \.onnx file/],
    [empty, /^model file is empty: .*; re-export it with export-onnx$/],
    [
      garbage,
      /is not a valid ONNX model \(.*protobuf parsing failed.*\); re-create it with export-onnx$/,
    ],
    [
      foreign,
      /is not an fclf-edge model: inputs \{'x': 'tensor\(float\)'\}, outputs \{'y': 'tensor\(float\)'\}/,
    ],
  ];
  for (const [path, message] of cases) {
    await assert.rejects(Classifier.load(path), (error) => {
      assert.ok(error instanceof ModelError, String(error));
      assert.equal(error.exitCode, 3);
      assert.match(error.message, message);
      assert.ok(!error.message.includes('\n'));
      return true;
    });
  }
});
