// The number grammar, written once as data (tests/data/number-grammar.json), read by the Node
// package: its parser (the page's too), its Classifier and its command. tests/test_grammar.py
// reads the same table for the Python runtime, and the page's test for the browser.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { Classifier } from 'fclf-edge';

import { chunkFromArgs } from '../lib/inputs.js';
import { text } from '../lib/messages.js';
import { ROOT, cli } from './helpers.mjs';

const TABLE = JSON.parse(readFileSync(join(ROOT, 'tests', 'data', 'number-grammar.json'), 'utf8'));
const ROWS = TABLE.rows;
const RANGE_REASONS = new Set([
  'reason.nan',
  'reason.infinity',
  'reason.overflow',
  'reason.below_absolute_zero',
]);

/** The refusal as every reader must word it, from the message catalogue. */
export function expectedReason(row) {
  const fields = row.fields ?? {};
  if (RANGE_REASONS.has(row.refused)) {
    const reason = text(row.refused, { absolute_zero: TABLE.absolute_zero });
    return text('reason.shown', { value: fields.value, reason });
  }
  return text(row.refused, fields);
}

const bits = (x) =>
  `0x${new Uint32Array(Float32Array.of(x).buffer)[0].toString(16).padStart(8, '0')}`;
const name = (row) => JSON.stringify(row.text.slice(0, 30)) + (row.decimal_comma ? ' comma' : '');

test('the table has both kinds of rows, with and without a decimal comma', () => {
  assert.ok(ROWS.filter((row) => 'value' in row).length >= 50);
  assert.ok(ROWS.filter((row) => 'refused' in row).length >= 50);
  assert.ok(ROWS.some((row) => row.decimal_comma && 'value' in row));
});

test('the parser gives each accepted text its float32 and refuses the rest in the same words', () => {
  for (const row of ROWS) {
    const chunk = chunkFromArgs([row.text], { decimalComma: row.decimal_comma });
    const reason = chunk.invalid.get(0);
    if ('value' in row) {
      assert.equal(reason, undefined, name(row));
      assert.equal(bits(chunk.values[0]), row.float32, name(row));
    } else {
      assert.equal(reason, expectedReason(row), name(row));
    }
  }
});

test('the Classifier labels each accepted value as the table says', async () => {
  const accepted = ROWS.filter((row) => 'value' in row);
  const values = accepted.map(
    (row) => chunkFromArgs([row.text], { decimalComma: row.decimal_comma }).values[0],
  );
  const labels = await (await Classifier.load()).predict(values);
  assert.deepEqual(
    labels,
    accepted.map((row) => row.label),
  );
});

for (const decimalComma of [false, true]) {
  test(`the command reads each row as the table says (${decimalComma ? 'comma' : 'point'})`, async () => {
    const rows = ROWS.filter((row) => row.decimal_comma === decimalComma);
    const args = ['predict', '--on-invalid', 'skip', ...(decimalComma ? ['--decimal-comma'] : [])];
    const result = await cli([...args, '--', ...rows.map((row) => row.text)]);
    assert.equal(result.code, 0, result.stderr);
    const wantOut = [];
    const wantErr = [];
    rows.forEach((row, i) => {
      if ('value' in row) {
        wantOut.push(String(row.label));
      } else {
        wantOut.push('skipped');
        const reason = expectedReason(row);
        wantErr.push(text('cli.skipped_row', { where: 'argument', line: i + 1, reason }));
      }
    });
    const skipped = wantErr.length;
    wantErr.push(text('cli.skipped_summary', { skipped, rows: rows.length, where: 'argument' }));
    assert.deepEqual(result.stdout.split('\n'), [...wantOut, '']);
    assert.deepEqual(result.stderr.split('\n'), [...wantErr, '']);
  });
}
