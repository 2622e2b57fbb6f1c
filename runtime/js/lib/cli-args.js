// The command line of bin/fclf-edge.mjs: help texts, each command's options, and a parser that
// reads them as click reads the Python CLI's (so `predict -40` is a value, and usage errors
// carry click's words, on one line).

import { InvalidInputError } from './errors.js';

const EXIT_CODES_HELP =
  'Exit codes: 0 ok; 1 mismatch (verify); 2 usage or invalid input; ' +
  '3 model file problem; 6 output could not be written.';

export const HELP = {
  main: `Usage: fclf-edge [--version] [--help] COMMAND [ARGS]...

  Classify Fahrenheit temperatures as above freezing (1) or not (0) with
  onnxruntime-node.

  ${EXIT_CODES_HELP}

Commands:
  predict  Print the label (1 = above freezing) for each VALUE in °F, in order.
  info     Describe a model: inputs, outputs, metadata, size and sha256.
  verify   Check a model against the formula C = (F - 32) / 1.8 > 0.
`,
  predict: `Usage: fclf-edge predict [OPTIONS] [VALUES]...

  Print the label (1 = above freezing) for each VALUE in °F, in order. Values
  come from arguments, or from --input FILE / '-' (stdin): one per line.
  Blank lines, words, NaN, infinities, values below absolute zero (-459.67 °F)
  and values beyond float32 are invalid.

  ${EXIT_CODES_HELP}

Options:
  -i, --input FILE        Read values from FILE ('-' for stdin).
  -p, --proba             Add the probability of 'above freezing'.
  --on-invalid [error|skip]
                          error: stop at the first bad value (exit 2). skip:
                          report each bad line on stderr and print 'skipped'.
  --decimal-comma         Read 32,5 as 32.5 (a comma is the decimal mark).
  -m, --model PATH        ONNX or ORT model (default: the bundled model).
  --help                  Show this message and exit.
`,
  info: `Usage: fclf-edge info [OPTIONS]

  Describe a model: inputs, outputs, metadata, size and sha256.

  ${EXIT_CODES_HELP}

Options:
  -m, --model PATH  ONNX or ORT model (default: the bundled model).
  --json            Print one JSON object.
  --help            Show this message and exit.
`,
  verify: `Usage: fclf-edge verify [OPTIONS]

  Check a model against the formula C = (F - 32) / 1.8 > 0 on float32 inputs.
  --exhaustive walks every float32 in the range (2,315,392,453 values for the
  default range); otherwise --samples random values. Exits 1 on any mismatch.

  ${EXIT_CODES_HELP}

Options:
  -m, --model PATH        ONNX or ORT model (default: the bundled model).
  --exhaustive            Check every float32 in the range.
  -n, --samples INTEGER   Random values to check (without --exhaustive).
                          [default: 1000000]
  --range LO HI           LO HI in °F  [default: -459.67 10000]
  --seed INTEGER          [default: 0]
  --rule-threshold FLOAT  Check against F > this value instead of the formula.
  -q, --quiet             Print only the summary.
  --help                  Show this message and exit.
`,
};

// Each command's options: name -> {short, values (how many follow), key}.
const OPTIONS = {
  predict: {
    '--input': { short: '-i', values: 1, key: 'input' },
    '--proba': { short: '-p', values: 0, key: 'proba' },
    '--on-invalid': { values: 1, key: 'onInvalid' },
    '--decimal-comma': { values: 0, key: 'decimalComma' },
    '--model': { short: '-m', values: 1, key: 'model' },
  },
  info: {
    '--model': { short: '-m', values: 1, key: 'model' },
    '--json': { values: 0, key: 'json' },
  },
  verify: {
    '--model': { short: '-m', values: 1, key: 'model' },
    '--exhaustive': { values: 0, key: 'exhaustive' },
    '--samples': { short: '-n', values: 1, key: 'samples' },
    '--range': { values: 2, key: 'range' },
    '--seed': { values: 1, key: 'seed' },
    '--rule-threshold': { values: 1, key: 'ruleThreshold' },
    '--quiet': { short: '-q', values: 0, key: 'quiet' },
  },
};

// Options of the Python CLI that this one does not have: say so instead of misreading them.
const PYTHON_ONLY = {
  '--format': 'prints text only',
  '-f': 'prints text only',
  '--column': 'reads one value per line, not CSV or JSON Lines',
  '-c': 'reads one value per line, not CSV or JSON Lines',
  '--input-format': 'reads one value per line, not CSV or JSON Lines',
  '--delimiter': 'reads one value per line, not CSV',
  '-d': 'reads one value per line, not CSV',
  '--append': 'prints labels only',
  '-a': 'prints labels only',
  '--output': 'writes to standard output only: redirect it',
  '-o': 'writes to standard output only: redirect it',
};

export class UsageError extends InvalidInputError {}

/**
 * Parse one command's arguments as click does for it. In `predict`, an unknown dash token is a
 * value (so `predict -40` works), as the Python CLI's ignore_unknown_options makes it.
 */
export function parseArgs(command, args) {
  const table = OPTIONS[command];
  const byShort = Object.fromEntries(
    Object.entries(table)
      .filter(([, spec]) => spec.short)
      .map(([name, spec]) => [spec.short, name]),
  );
  const options = {};
  const values = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === '--') {
      values.push(...args.slice(i + 1));
      break;
    }
    if (arg === '--help') return { help: true };
    const [flag, inline] =
      arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg, undefined];
    const name = table[flag] ? flag : byShort[flag];
    if (name === undefined) {
      if (command === 'predict' && PYTHON_ONLY[flag]) {
        throw new UsageError(
          `${flag}: the Node CLI ${PYTHON_ONLY[flag]}; use the Python fclf-edge for it`,
        );
      }
      if (arg.startsWith('-') && arg !== '-' && command !== 'predict') {
        throw new UsageError(`No such option: ${flag}`);
      }
      values.push(arg);
      continue;
    }
    const spec = table[name];
    if (spec.values === 0) {
      if (inline !== undefined) throw new UsageError(`Option '${name}' does not take a value.`);
      options[spec.key] = true;
      continue;
    }
    const taken =
      inline !== undefined
        ? [inline, ...args.slice(i + 1, i + spec.values)]
        : args.slice(i + 1, i + 1 + spec.values);
    if (taken.length < spec.values) {
      throw new UsageError(
        spec.values === 1
          ? `Option '${name}' requires an argument.`
          : `Option '${name}' requires ${spec.values} arguments.`,
      );
    }
    i += inline !== undefined ? spec.values - 1 : spec.values;
    options[spec.key] = spec.values === 1 ? taken[0] : taken;
  }
  return { options, values };
}

function optionLabel(name) {
  const spec = Object.values(OPTIONS)
    .flatMap((t) => Object.entries(t))
    .find(([n]) => n === name)?.[1];
  return spec?.short ? `'${name}' / '${spec.short}'` : `'${name}'`;
}

/** Python's float(text), as click's FLOAT type reads an option. */
export function parseFloatOption(name, text) {
  const t = text.trim();
  const ok =
    /^[+-]?(?:(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?)$/.test(t) &&
    /\d/.test(t);
  if (ok) return Number(t.replaceAll('_', ''));
  const word = t.toLowerCase().replace(/^[+-]/, '');
  if (word === 'inf' || word === 'infinity') return t.startsWith('-') ? -Infinity : Infinity;
  if (word === 'nan') return NaN;
  throw new UsageError(`Invalid value for ${optionLabel(name)}: '${text}' is not a valid float.`);
}

/** Python's int(text), as click's INT type reads an option. */
export function parseIntOption(name, text) {
  const t = text.trim();
  if (!/^[+-]?\d(?:_?\d)*$/.test(t)) {
    throw new UsageError(
      `Invalid value for ${optionLabel(name)}: '${text}' is not a valid integer.`,
    );
  }
  return Number(t.replaceAll('_', ''));
}
