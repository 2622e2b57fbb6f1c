// One value per line from a file or stdin, in chunks, holding one 2 MB block at a time (flat
// memory for any input size). Blocks, line numbering and messages follow the Python CLI.

import { InvalidInputError } from './errors.js';
import { CHUNK_LINES, describeToken, parseTokens } from './inputs.js';

// Python reads `CHUNK_LINES * 8` bytes a block; cutting at the same bytes keeps the two CLIs'
// chunks, and so what each writes before an invalid line stops it, identical.
export const BLOCK_BYTES = Math.max(1 << 16, CHUNK_LINES * 8);

/** Exactly `size`-byte blocks (the last one shorter) from an async iterable of buffers. */
export async function* exactBlocks(stream, size = BLOCK_BYTES) {
  let pending = [];
  let held = 0;
  for await (const piece of stream) {
    pending.push(piece);
    held += piece.length;
    while (held >= size) {
      const joined = pending.length === 1 ? pending[0] : Buffer.concat(pending, held);
      yield joined.subarray(0, size);
      pending = held > size ? [joined.subarray(size)] : [];
      held -= size;
    }
  }
  if (held > 0) yield pending.length === 1 ? pending[0] : Buffer.concat(pending, held);
}

/** Bytes kept as a latin1 string (one character per byte) back to text for messages. */
function utf8(token) {
  return Buffer.from(token, 'latin1').toString('utf8');
}

function rejectCsv(tokens, firstLine) {
  // A comma means CSV: say so once instead of reporting every line as not a number.
  if (tokens.length > 0 && tokens[0].includes(',')) {
    throw new InvalidInputError(
      `line ${firstLine}: ${describeToken(utf8(tokens[0]))} has commas; CSV is not read here: ` +
        'give one number per line',
      { line: firstLine },
    );
  }
}

/** Chunks of one value per line. A trailing newline ends the last line; it adds no empty line. */
export async function* chunksFromLines(stream, chunkLines = CHUNK_LINES) {
  let carry = '';
  let nextLine = 1;
  for await (const block of exactBlocks(stream, Math.max(1 << 16, chunkLines * 8))) {
    const nul = block.indexOf(0);
    const data = carry + block.toString('latin1');
    let lines = data.split('\n');
    carry = lines.pop();
    if (nul >= 0) {
      // Lines before the NUL come first, so an earlier bad line is the one reported.
      const before = data.slice(0, data.indexOf('\0'));
      lines = lines.slice(0, before.split('\n').length - 1);
    }
    for (let start = 0; start < lines.length; start += chunkLines) {
      const head = lines.slice(start, start + chunkLines);
      rejectCsv(head, nextLine);
      yield parseTokens(head, nextLine, utf8);
      nextLine += head.length;
    }
    if (nul >= 0) {
      throw new InvalidInputError(
        `line ${nextLine}: input is binary, not text (NUL byte); expected one number per line`,
        { line: nextLine },
      );
    }
  }
  if (carry) {
    rejectCsv([carry], nextLine);
    yield parseTokens([carry], nextLine, utf8);
  }
}
