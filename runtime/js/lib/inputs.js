// Read Fahrenheit values from text, one per line or per argument, with the Python CLI's rules
// (runtime/inputs.py): the same accepted syntax, the same messages, the same chunks.
// Pure JavaScript: the page parses what a person types with it.

import { DOMAIN_LOW, FLOAT32_MAX } from './floats.js';
import { strRepr } from './pyformat.js';
import { problemWith } from './validate.js';

/** Optional sign, decimal digits with an optional point, optional exponent; spaces/tabs around. */
export const NUMBER_SYNTAX = /^[ \t]*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?[ \t]*\r?$/;
// A token made only of these characters takes the fast path (Number() on it), as in Python.
const OUTSIDE_FAST_PATH = /[^0-9+\-.eE \t\r]/;
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

function fastValues(tokens) {
  const values = new Float64Array(tokens.length);
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i];
    if (OUTSIDE_FAST_PATH.test(token) || !DIGIT.test(token)) return null;
    const value = Number(token);
    if (Number.isNaN(value)) return null;
    values[i] = value;
  }
  return values;
}

/**
 * Parse one chunk of tokens; rows are numbered from `firstLine`. `text(token)` turns a token into
 * the text shown in messages (stream tokens are bytes held as latin1 strings).
 */
export function parseTokens(tokens, firstLine, text = (token) => token) {
  const invalid = new Map();
  let values = fastValues(tokens);
  if (values === null) {
    values = new Float64Array(tokens.length);
    for (let i = 0; i < tokens.length; i++) {
      const token = tokens[i];
      if (NUMBER_SYNTAX.test(token)) {
        values[i] = Number(token);
      } else {
        values[i] = NaN;
        const empty = token.replace(/^[ \t\r]+|[ \t\r]+$/g, '') === '';
        invalid.set(i, empty ? 'empty line' : `${describeToken(text(token))} is not a number`);
      }
    }
  }
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    if (!(Math.fround(value) >= DOMAIN_LOW && Math.abs(value) <= FLOAT32_MAX) && !invalid.has(i)) {
      invalid.set(i, `${describeToken(text(tokens[i]))} ${problemWith(value)}`);
    }
  }
  return new Chunk(firstLine, values, invalid);
}

/** Command-line or typed values, numbered from 1. */
export function chunkFromArgs(values) {
  return parseTokens(values.map(String), 1);
}
