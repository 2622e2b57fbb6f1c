// Standard output for the command-line tool: writes that wait for the system to take the bytes
// (so memory stays flat and nothing is lost at exit), and the system's write errors turned into
// the documented ones: a reader that went away (EPIPE) ends the run quietly, anything else (a
// full disk, an I/O error) is a WriteError, exit 6.

import { getSystemErrorMap } from 'node:util';

import { WriteError } from './errors.js';

/** The reader of our output went away (`| head`): stop quietly, as Unix tools do. */
export class ReaderGone extends Error {}

// libuv's messages are lower-case; the Python CLI prints the C library's ("No space left on
// device"). Most differ only in the first letter; these few differ in wording.
const STRERROR = { EIO: 'Input/output error', EDQUOT: 'Disk quota exceeded' };

/** The operating system's reason for a failed write, worded as strerror() words it. */
export function reason(error) {
  if (error.code && STRERROR[error.code]) return STRERROR[error.code];
  const known = typeof error.errno === 'number' ? getSystemErrorMap().get(error.errno) : undefined;
  // Node's own message reads "ENOSPC: no space left on device, write": keep the middle.
  const text = known
    ? known[1]
    : String(error.message)
        .replace(/^[A-Z]+: /, '')
        .replace(/, \w+$/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** A write to `stream` that resolves once the bytes are handed to the system. */
export function writeTo(stream, data, name = 'standard output') {
  return new Promise((resolve, reject) => {
    stream.write(data, (error) => {
      if (!error) resolve();
      else if (error.code === 'EPIPE') reject(new ReaderGone());
      else reject(new WriteError(name, reason(error)));
    });
  });
}

/** Keep the stream's 'error' events from becoming uncaught exceptions; callbacks carry them. */
export function guard(stream) {
  stream.on('error', () => {});
  return stream;
}
