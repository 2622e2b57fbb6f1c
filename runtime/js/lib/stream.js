// One value per line from a file or stdin, in chunks, with flat memory: one block (at most 2 MB)
// and one bounded unfinished line are held at a time. Line numbers and messages follow the
// Python CLI's plain-lines reader (runtime/lines.py, runtime/inputs.py).

import { InvalidInputError } from './errors.js';
import { CHUNK_LINES, describeToken, parseTokens, utf8Text } from './inputs.js';
import { text } from './messages.js';
import { strRepr, thousands } from './pyformat.js';

// Blocks are taken as the input delivers them (so `printf '33\n' | fclf-edge predict -` is
// answered at once), cut to at most BLOCK_BYTES; the CLI reads files READ_BYTES at a time.
export const BLOCK_BYTES = 1 << 21;
export const READ_BYTES = 1 << 16;
/** The longest line kept: a longer one is reported and its bytes skipped as they stream past. */
export const MAX_RECORD_BYTES = 1 << 16;
const TOO_LONG = text('reason.record_too_long', { limit: thousands(MAX_RECORD_BYTES) });
const UTF8_BOM = '\xef\xbb\xbf';

/** The input's pieces, none longer than `size` bytes. */
async function* pieces(stream, size) {
  for await (const piece of stream) {
    for (let start = 0; start < piece.length; start += size)
      yield piece.subarray(start, start + size);
  }
}

/** Line 1 with delimiters means CSV: say so once instead of reporting every line. */
function rejectTable(chunk, token, decimalComma) {
  if (!chunk.invalid.has(0) || chunk.firstLine !== 1) return;
  const stripped = token.replace(/^[ \t\r]+|[ \t\r]+$/g, '');
  const found = [',', ';', '\t', '|'].filter((d) => stripped.includes(d));
  if (found.length === 0 || (decimalComma && found.length === 1 && found[0] === ',')) return;
  const what = found[0] === ',' ? 'commas' : `${strRepr(found[0])} separators`;
  throw new InvalidInputError(
    `line 1: ${describeToken(utf8Text(token))} has ${what}; CSV input is read by the Python ` +
      'fclf-edge (--column); this one reads one value per line',
    { line: 1 },
  );
}

/**
 * Chunks of one value per line from a stream of bytes (a file or stdin). A trailing newline ends
 * the last line; it adds no empty line. A NUL byte means binary input: the lines before it are
 * yielded, then InvalidInputError names its line.
 */
export async function* chunksFromLines(
  stream,
  { chunkLines = CHUNK_LINES, decimalComma = false } = {},
) {
  let carry = ''; // the unfinished last line, at most MAX_RECORD_BYTES (bytes as latin1)
  let line = 1; // number of the next line
  let skipping = false; // inside a too-long line, already reported
  let first = true;
  let checked = false;

  function* emit(lines, problems) {
    for (let start = 0; start < lines.length; start += chunkLines) {
      const part = lines.length <= chunkLines ? lines : lines.slice(start, start + chunkLines);
      const firstLine = line + start;
      const known = new Map();
      for (const [number, why] of problems) {
        if (number - firstLine >= 0 && number - firstLine < part.length)
          known.set(number - firstLine, why);
      }
      const chunk = parseTokens(part, firstLine, { known, decimalComma, bytes: true });
      if (!checked) {
        rejectTable(chunk, part[0], decimalComma);
        checked = true;
      }
      yield chunk;
    }
  }

  /** The lines of `body` (each ended by \n), too-long ones emptied and listed in `problems`. */
  function split(body, problems) {
    const lines = body.split('\n');
    lines.pop();
    for (let i = 0; i < lines.length; i++) {
      if (lines[i].length > MAX_RECORD_BYTES) {
        problems.set(line + i, TOO_LONG);
        lines[i] = '';
      }
    }
    return lines;
  }

  for await (const piece of pieces(stream, BLOCK_BYTES)) {
    let block = piece.toString('latin1');
    if (first) {
      first = false;
      if (block.startsWith(UTF8_BOM)) block = block.slice(UTF8_BOM.length);
    }
    if (skipping) {
      const newline = block.indexOf('\n');
      if (newline < 0) continue;
      block = block.slice(newline + 1);
      skipping = false;
    }
    let data = carry ? carry + block : block;
    const nul = data.indexOf('\0');
    if (nul >= 0) {
      data = data.slice(0, data.lastIndexOf('\n', nul) + 1);
      const problems = new Map();
      const lines = split(data, problems);
      yield* emit(lines, problems);
      const expected = text('input.binary_expected_node');
      throw new InvalidInputError(text('input.binary', { line: line + lines.length, expected }), {
        line: line + lines.length,
      });
    }
    const end = data.lastIndexOf('\n') + 1;
    const problems = new Map();
    const lines = split(data.slice(0, end), problems);
    carry = data.slice(end);
    if (carry.length > MAX_RECORD_BYTES) {
      // Report it now and drop its bytes as they come: never buffer the whole line.
      problems.set(line + lines.length, TOO_LONG);
      lines.push('');
      carry = '';
      skipping = true;
    }
    if (lines.length) {
      yield* emit(lines, problems);
      line += lines.length;
    }
  }
  if (carry) yield* emit([carry], new Map());
}
