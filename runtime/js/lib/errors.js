// One small error hierarchy, the same as the Python package's (runtime/errors.py): each class
// carries the exit code the command-line tool maps it to.

/** Exit codes, as documented in README.md and shared with the Python CLI. */
export const EXIT = Object.freeze({
  ok: 0,
  mismatch: 1, // verify found a wrong label or probability
  usage: 2, // bad option or invalid input value
  model: 3, // model file missing, unreadable, corrupt or not an fclf-edge model
  write: 6, // an output could not be written: disk full, read-only, I/O error
});

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
    super(`cannot write ${path}: ${reason}`);
    this.path = path;
    this.reason = reason;
  }

  get exitCode() {
    return EXIT.write;
  }
}
