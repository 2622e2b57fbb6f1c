// The command line of bin/fclf-edge.mjs: help texts, each command's options, and a parser that
// reads them as click reads the Python CLI's (so `predict -40` is a value, and usage errors
// carry click's words, on one line).

import { InvalidInputError } from './errors.js';
import { FLOAT32_OVERFLOW } from './floats.js';
import { exitCodesHelp, text } from './messages.js';
import { floatRepr, strRepr } from './pyformat.js';

/** A paragraph wrapped as click wraps help text: words, lines of at most 78 columns. */
export function wrap(paragraph, indent = '  ', width = 78) {
  const lines = [];
  let line = '';
  for (const word of paragraph.split(/\s+/).filter(Boolean)) {
    if (line && indent.length + line.length + 1 + word.length > width) {
      lines.push(indent + line);
      line = word;
    } else {
      line = line ? `${line} ${word}` : word;
    }
  }
  if (line) lines.push(indent + line);
  return lines.join('\n');
}

// The exit codes this command can end with, from the catalogue shared with the Python CLI
// (runtime/messages.json), so the list cannot drift from the codes the tool uses.
const EXIT_CODES_HELP = wrap(exitCodesHelp('node'));

export const HELP = {
  main: `Usage: fclf-edge [--version] [--help] COMMAND [ARGS]...

  Classify Fahrenheit temperatures as above freezing (1) or not (0) with
  onnxruntime-node. Inputs are rounded to float32 first, as the model sees
  them (32.000001 is float32 32.0, label 0).

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
  and values beyond float32 are invalid. Each value is rounded to float32
  first: 32.000001 is float32 32.0, so it is labelled 0.

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
                          [default: 1000000; 1<=x<=4294967296]
  --range LO HI           LO HI in °F  [default: -459.67 10000]
  --seed INTEGER          [default: 0; 0<=x<=4294967295]
  --rule-threshold FLOAT  Check against F > this value instead of the formula.
  -q, --quiet             No progress bar on stderr.
  --help                  Show this message and exit.
`,
};

// The numeric options' domains: the Python CLI's (runtime/cli.py, cliutil.FiniteFloat and
// BoundedInt); tests/test_options.py runs one table of values through both tools.
const INT = (min, max) => ({ kind: 'int', min, max });
const FINITE = { kind: 'float' };
const FLOAT32 = { kind: 'float', float32: true };

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
    // At most 2**32: more draws than there are float32 values (--exhaustive checks them all).
    '--samples': { short: '-n', values: 1, key: 'samples', type: INT(1, 2 ** 32) },
    '--range': { values: 2, key: 'range', type: FINITE },
    '--seed': { values: 1, key: 'seed', type: INT(0, 2 ** 32 - 1) }, // the generator's 32 bits
    '--rule-threshold': { values: 1, key: 'ruleThreshold', type: FLOAT32 },
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
  '--encoding': 'reads UTF-8 only',
  '-e': 'reads UTF-8 only',
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
    const converted = spec.type ? taken.map((t) => convert(name, spec.type, t)) : taken;
    options[spec.key] = spec.values === 1 ? converted[0] : converted;
  }
  return { options, values };
}

function optionLabel(name) {
  const spec = Object.values(OPTIONS)
    .flatMap((t) => Object.entries(t))
    .find(([n]) => n === name)?.[1];
  return spec?.short ? `'${name}' / '${spec.short}'` : `'${name}'`;
}

/** A refused option value: `Invalid value for '--x': problem`, one line, exit 2. */
function refuse(name, problem) {
  return new UsageError(text('option.invalid', { option: optionLabel(name), problem }));
}

/** Python's float(text), as click's FLOAT type reads an option (NaN and infinities included). */
export function parseFloatOption(name, text_) {
  const t = text_.trim();
  const ok =
    /^[+-]?(?:(?:\d(?:_?\d)*)?(?:\.(?:\d(?:_?\d)*)?)?(?:[eE][+-]?\d(?:_?\d)*)?)$/.test(t) &&
    /\d/.test(t);
  if (ok) return Number(t.replaceAll('_', ''));
  const word = t.toLowerCase().replace(/^[+-]/, '');
  if (word === 'inf' || word === 'infinity') return t.startsWith('-') ? -Infinity : Infinity;
  if (word === 'nan') return NaN;
  throw refuse(name, text('option.not_float', { value: strRepr(text_) }));
}

/** Python's int(text), as click's INT type reads an option. */
export function parseIntOption(name, text_) {
  const t = text_.trim();
  if (!/^[+-]?\d(?:_?\d)*$/.test(t)) {
    throw refuse(name, text('option.not_integer', { value: strRepr(text_) }));
  }
  return BigInt(t.replaceAll('_', '')); // exact, however long: the range check comes next
}

/** click's range wording: `x>=1`, `0<=x<=4294967295`. */
function describeRange({ min, max }, show) {
  if (min === undefined) return `x<=${show(max)}`;
  if (max === undefined) return `x>=${show(min)}`;
  return `${show(min)}<=x<=${show(max)}`;
}

/**
 * One option value read and checked as the Python CLI's FiniteFloat and BoundedInt do: numbers
 * only, finite, within the option's range (and, for a float32 option, not rounding to infinity).
 */
export function convert(name, type, raw) {
  if (type.kind === 'int') {
    const n = parseIntOption(name, raw);
    const below = type.min !== undefined && n < BigInt(type.min);
    const above = type.max !== undefined && n > BigInt(type.max);
    if (below || above) {
      const range = describeRange(type, String);
      throw refuse(name, text('option.out_of_range', { value: String(n), range }));
    }
    return Number(n);
  }
  const x = parseFloatOption(name, raw);
  if (!Number.isFinite(x)) throw refuse(name, text('option.not_finite', { value: strRepr(raw) }));
  if (type.float32 && Math.abs(x) >= FLOAT32_OVERFLOW) {
    throw refuse(
      name,
      text('option.reason', { value: floatRepr(x), reason: text('reason.overflow') }),
    );
  }
  return x;
}
