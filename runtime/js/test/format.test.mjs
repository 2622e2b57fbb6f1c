import assert from 'node:assert/strict';
import { test } from 'node:test';

import { countFloats, floatSegments, fromOrdinal, nextUp, toOrdinal } from '../lib/floats.js';
import { parseTokens } from '../lib/inputs.js';
import { floatRepr, formatG, strRepr, thousands } from '../lib/pyformat.js';

test("floatRepr prints Python's repr()", () => {
  const cases = [
    [-459.6700134277344, '-459.6700134277344'],
    [10000, '10000.0'],
    [32, '32.0'],
    [1e16, '1e+16'],
    [1e15, '1000000000000000.0'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [-0, '-0.0'],
    [NaN, 'nan'],
    [-Infinity, '-inf'],
    [32.000003814697266, '32.000003814697266'],
    [3.4028234663852886e38, '3.4028234663852886e+38'],
  ];
  for (const [x, want] of cases) assert.equal(floatRepr(x), want);
});

test("formatG prints Python's '%.9g', ties to even", () => {
  const cases = [
    [0.5986455678939819, '0.598645568'],
    [0.5, '0.5'],
    [1, '1'],
    [3.146254415851979e-13, '3.14625442e-13'],
    [1e-30, '1e-30'],
    [1234567890, '1.23456789e+09'],
    [0.0001, '0.0001'],
    [0.00001234, '1.234e-05'],
    // Exact ties at the tenth digit: Python rounds half to even, toPrecision away from zero.
    [0.5009765625, '0.500976562'],
    [0.5029296875, '0.502929688'],
  ];
  for (const [x, want] of cases) assert.equal(formatG(x), want);
  assert.equal(thousands(2315392453), '2,315,392,453');
  assert.equal(strRepr("it's"), `"it's"`);
  assert.equal(strRepr('a\tb'), "'a\\tb'");
});

test('float32 ordinals walk values in order, both zeros counted', () => {
  assert.equal(toOrdinal(0), 0);
  assert.equal(toOrdinal(-0), 0);
  assert.equal(fromOrdinal(toOrdinal(32)), 32);
  assert.equal(nextUp(32), 32.000003814697266);
  assert.equal(nextUp(32, -1), 31.999998092651367);
  assert.equal(countFloats(-459.67, 10000), 2_315_392_453);
  assert.equal(countFloats(30, 34), 1_572_865);
  assert.equal(countFloats(-1, 1), 2 * 1_065_353_216 + 2);
  const total = floatSegments(-459.67, 10000).reduce((n, s) => n + s.count, 0);
  assert.equal(total, 2_315_392_453);
});

test("the number syntax and messages are the Python CLI's", () => {
  const tokens = [
    '33',
    ' -40.5 ',
    '+1e2',
    '.5',
    '5.',
    '',
    'nan',
    '1_000',
    '0x10',
    '1e400',
    '-460',
    '1,5',
    '\u0663',
  ];
  const chunk = parseTokens(tokens, 1);
  assert.deepEqual(Array.from(chunk.values.slice(0, 5)), [33, -40.5, 100, 0.5, 5]);
  assert.deepEqual(Object.fromEntries(chunk.invalid), {
    5: 'empty line',
    6: "'nan' is not a number",
    7: "'1_000' is not a number",
    8: "'0x10' is not a number",
    9: "'1e400' overflows float32 (rounds to infinity; the largest float32 is 3.4028235e38)",
    10: "'-460' is below absolute zero (-459.67 °F)",
    11: "'1,5' is not a number (a decimal comma? see --decimal-comma)",
    12: "'\u0663' is not a number",
  });
});
