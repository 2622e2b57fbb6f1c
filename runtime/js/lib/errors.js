// One small error hierarchy, the same as the Python package's (runtime/errors.py): each class
// carries the exit code the command-line tool maps it to.

import { exitCodes, text } from './messages.js';

/**
 * Exit codes by name, from the catalogue shared with the Python CLI (runtime/messages.json):
 * ok 0, mismatch 1, usage 2, model 3, write 6, interrupted 130, terminated 143.
 */
export const EXIT = Object.freeze(
  Object.fromEntries(exitCodes('node').map(({ code, name }) => [name, code])),
);

/** Base of every error the package raises on purpose. */
export class FclfError extends Error {
  get name() {
    return this.constructor.name;
  }

  get exitCode() {
    return EXIT.usage;
  }
}

/** A value is not a usable Fahrenheit temperature; `index` is the first bad element's position. */
export class InvalidInputError extends FclfError {
  constructor(message, { index = null, line = null, value = undefined } = {}) {
    super(message);
    this.index = index;
    this.line = line;
    this.value = value;
  }
}

/** A model file is missing, unreadable, corrupt or not an fclf-edge model. */
export class ModelError extends FclfError {
  get exitCode() {
    return EXIT.model;
  }
}

/** A model disagrees with the formula. */
export class MismatchError extends FclfError {
  get exitCode() {
    return EXIT.mismatch;
  }
}

/** An output (a file or standard output) could not be written. */
export class WriteError extends FclfError {
  constructor(path, reason) {
    super(text('cli.write_failed', { path, reason }));
    this.path = path;
    this.reason = reason;
  }

  get exitCode() {
    return EXIT.write;
  }
}
