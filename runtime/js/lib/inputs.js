// Read Fahrenheit values from text, one per line or per argument, with the Python CLI's rules
// (runtime/inputs.py): the same accepted syntax, the same messages, the same chunks.
// Pure JavaScript: the page parses what a person types with it.

import { text } from './messages.js';
import { strRepr } from './pyformat.js';
import { isValid, problemWith } from './validate.js';

/** Optional sign, decimal digits with an optional point, optional exponent; spaces/tabs around. */
export const NUMBER_SYNTAX = /^[ \t]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\r?$/;
// A token made only of these characters takes the fast path (Number() on it), as in Python.
const OUTSIDE_FAST_PATH = /[^0-9+\-.eE \t\r]/;
const OUTSIDE_FAST_PATH_COMMA = /[^0-9+\-,eE \t\r]/;
const DIGIT = /\d/;
/** Rows per chunk: the Python CLI's, so both write and stop at the same rows. */
export const CHUNK_LINES = 1 << 18;

/**
 * Consecutive input rows: the first row's 1-based number, the values (NaN where invalid), and
 * the invalid rows as position in chunk -> reason.
 */
export class Chunk {
  constructor(firstLine, values, invalid) {
    this.firstLine = firstLine;
    this.values = values;
    this.invalid = invalid;
  }

  get length() {
    return this.values.length;
  }

  /** Positions of the invalid rows, in order. */
  invalidPositions() {
    return [...this.invalid.keys()].sort((a, b) => a - b);
  }
}

/** How a bad token is named in messages: Python's repr of its text, cut at 40 characters. */
export function describeToken(text) {
  const chars = Array.from(text.replace(/^\r+|\r+$/g, ''));
  return strRepr(chars.length <= 40 ? chars.join('') : `${chars.slice(0, 37).join('')}...`);
}

function fastValues(tokens, decimalComma) {
  const outside = decimalComma ? OUTSIDE_FAST_PATH_COMMA : OUTSIDE_FAST_PATH;
  const values = new Float64Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    // Number() trims a CR anywhere around a number; the grammar allows one, last.
    const cr = token.indexOf('\r');
    if (outside.test(token) || !DIGIT.test(token) || (cr >= 0 && cr !== token.length - 1)) {
      return null;
    }
    const value = Number(decimalComma ? token.replaceAll(',', '.') : token);
    if (Number.isNaN(value)) return null;
    values[i] = value;
  }
  return values;
}

/** The value of one token in the accepted syntax, or null (not range-checked). */
export function parseNumber(token, decimalComma = false) {
  if (decimalComma) {
    if (token.includes('.')) return null;
    token = token.replaceAll(',', '.');
  }
  return NUMBER_SYNTAX.test(token) ? Number(token) : null;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Whether a latin1-held token (bytes) is valid UTF-8. */
export function isUtf8(token) {
  if (!/[^\x00-\x7f]/.test(token)) return true;
  try {
    strictUtf8.decode(Uint8Array.from(token, (ch) => ch.charCodeAt(0)));
    return true;
  } catch {
    return false;
  }
}

/** A number written with thousands separators: 1,234 or 1.234.567 (either mark). */
const GROUPED = /^[ \t]*[+-]?\d{1,3}(?:([,.])\d{3})+(?:(?!\1)[,.]\d*)?[ \t]*\r?$/;

/** Why a token outside the accepted syntax was refused (the catalogue's words). */
function reason(token, shown, { empty, decimalComma, bytes }) {
  const plain = token.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
  if (plain === '') return empty;
  if (bytes && !isUtf8(token)) return text('reason.not_utf8');
  const grouped = GROUPED.exec(token);
  if (grouped !== null) {
    // 1,234 is 1.234 with a decimal comma and 1234 with a thousands separator: which one the
    // writer meant cannot be known, so the message names both readings.
    const mark = grouped[1];
    const whole = plain.replaceAll(mark, '').replaceAll(',', '.');
    if (plain.split(mark).length === 2 && !plain.includes(mark === ',' ? '.' : ',')) {
      const [name, flag] =
        mark === ',' ? ['comma', '--decimal-comma'] : ['point', 'no --decimal-comma'];
      const decimal = plain.replaceAll(',', '.');
      return text('reason.grouped_ambiguous', { value: shown, decimal, mark: name, flag, whole });
    }
    return text('reason.grouped', { value: shown, whole });
  }
  if (decimalComma && parseNumber(token) !== null) {
    return text('reason.decimal_point_refused', { value: shown });
  }
  if (!decimalComma && parseNumber(token, true) !== null) {
    return text('reason.decimal_comma_hint', { value: shown });
  }
  return text('reason.not_a_number', { value: shown });
}

/**
 * Parse one chunk of tokens; rows are numbered from `firstLine`.
 *
 * Options: `known` (position -> reason) marks rows already known to be invalid; `empty` is the
 * reason for a blank token; `decimalComma` reads 32,5 as 32.5; `bytes` says tokens are bytes held
 * as latin1 strings (stream input), which are shown as UTF-8 in messages.
 */
export function parseTokens(
  tokens,
  firstLine,
  { known = null, empty = text('reason.empty_line'), decimalComma = false, bytes = false } = {},
) {
  const shown = (token) => describeToken(bytes ? utf8Text(token) : token);
  const invalid = new Map();
  let values = known && known.size ? null : fastValues(tokens, decimalComma);
  if (values === null) {
    values = new Float64Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (known?.has(i)) {
        values[i] = NaN;
        invalid.set(i, known.get(i));
        continue;
      }
      const value = parseNumber(token, decimalComma);
      if (value === null) {
        values[i] = NaN;
        invalid.set(i, reason(token, shown(token), { empty, decimalComma, bytes }));
      } else {
        values[i] = value;
      }
    }
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!isValid(value) && !invalid.has(i)) {
      // The grammar has no words for infinity: an infinity parsed from text is a number too
      // big for float64 (1e999), so it overflows (as runtime/reader/grammar.py says).
      const why = Number.isFinite(value) || Number.isNaN(value) ? problemWith(value) : text('reason.overflow');
      invalid.set(i, text('reason.shown', { value: shown(tokens[i]), reason: why }));
    }
  }
  return new Chunk(firstLine, values, invalid);
}

/** Bytes held as a latin1 string back to text (invalid UTF-8 shown as U+FFFD). */
export function utf8Text(token) {
  return new TextDecoder('utf-8').decode(Uint8Array.from(token, (ch) => ch.charCodeAt(0)));
}

/** Command-line or typed values, numbered from 1 ('argument N'). */
export function chunkFromArgs(values, { decimalComma = false } = {}) {
  return parseTokens(values.map(String), 1, { empty: text('reason.empty_value'), decimalComma });
}
