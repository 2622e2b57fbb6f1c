#!/usr/bin/env node
// fclf-edge for Node: predict, inspect and verify with the ONNX (or ORT) model. A thin layer over
// the library that prints what the Python CLI prints and exits with the same codes.

import '../lib/signals.js'; // first: handlers in place before onnxruntime-node loads

import { createReadStream, openSync, readFileSync, statSync } from 'node:fs';

import { Classifier, FclfError, InvalidInputError, MismatchError } from '../index.js';
import { HELP, UsageError, parseArgs } from '../lib/cli-args.js';
import { EXIT } from '../lib/errors.js';
import { text } from '../lib/messages.js';
import { ReaderGone, guard, writeTo } from '../lib/output.js';
import { READ_BYTES, chunksFromLines } from '../lib/stream.js';
import { floatRepr, formatG, thousands, thousandsFixed } from '../lib/pyformat.js';

// ---------------------------------------------------------------------------------------------
// predict

function openInput(path) {
  let stats;
  try {
    stats = statSync(path);
  } catch {
    throw new InvalidInputError(text('input.not_found', { path }));
  }
  if (stats.isDirectory())
    throw new InvalidInputError(`input path is a directory, not a file: ${path}`);
  try {
    // 64 KiB reads, as a pipe delivers them: the peak RSS stays at ~124 MiB for any file size,
    // where 2 MB reads (the Python reader's) left V8 holding ~280 MiB, at the same speed.
    return createReadStream(null, { fd: openSync(path, 'r'), highWaterMark: READ_BYTES });
  } catch (error) {
    const reason = error.code === 'EACCES' ? 'Permission denied' : error.message;
    throw new InvalidInputError(text('input.unreadable', { path, reason }));
  }
}

/** Text rows for one chunk: `label` or `label<TAB>probability`, `skipped` for skipped rows. */
function textRows(chunk, labels, probabilities) {
  const n = chunk.length;
  if (probabilities === null && chunk.invalid.size === 0) {
    // The hot path for big files: labels are 0/1, so each row is two bytes.
    const words = new Int32Array(labels.buffer, labels.byteOffset, n * 2);
    const out = Buffer.allocUnsafe(n * 2);
    for (let i = 0; i < n; i++) {
      out[2 * i] = 48 + words[2 * i];
      out[2 * i + 1] = 10;
    }
    return out;
  }
  const rows = [];
  let valid = 0;
  for (let i = 0; i < n; i++) {
    if (chunk.invalid.has(i)) {
      rows.push('skipped\n');
      continue;
    }
    const label = Number(labels[valid]);
    rows.push(
      probabilities === null ? `${label}\n` : `${label}\t${formatG(probabilities[valid])}\n`,
    );
    valid++;
  }
  return rows.join('');
}

async function predict({ options, values }) {
  const { chunkFromArgs } = await import('../lib/inputs.js');
  const decimalComma = Boolean(options.decimalComma);
  let input = options.input ?? null;
  if (input !== null && values.length) throw new InvalidInputError(text('cli.values_and_input'));
  if (values.length === 1 && values[0] === '-') {
    input = '-';
    values = [];
  }
  if (input === null && !values.length) throw new InvalidInputError(text('cli.no_values'));
  const onInvalid = options.onInvalid ?? 'error';
  if (onInvalid !== 'error' && onInvalid !== 'skip') {
    throw new UsageError(
      `Invalid value for '--on-invalid': '${onInvalid}' is not one of 'error', 'skip'.`,
    );
  }
  const classifier = await Classifier.load(options.model);
  const where = input === null ? 'argument' : 'line';
  let chunks;
  if (input === null) {
    chunks = [chunkFromArgs(values, { decimalComma })];
  } else {
    chunks = chunksFromLines(input === '-' ? process.stdin : openInput(input), { decimalComma });
  }
  let rows = 0;
  let skipped = 0;
  for await (const chunk of chunks) {
    let batch = chunk.values;
    if (chunk.invalid.size) {
      const positions = chunk.invalidPositions();
      if (onInvalid === 'error') {
        const line = chunk.firstLine + positions[0];
        const reason = chunk.invalid.get(positions[0]);
        const message = text('cli.invalid_row', { where, line, reason });
        throw new InvalidInputError(input !== null ? text('cli.skip_hint', { message }) : message, {
          line,
        });
      }
      for (const i of positions) {
        const line = chunk.firstLine + i;
        const reason = chunk.invalid.get(i);
        process.stderr.write(`${text('cli.skipped_row', { where, line, reason })}\n`);
      }
      skipped += positions.length;
      batch = batch.filter((_, i) => !chunk.invalid.has(i));
    }
    let labels = new BigInt64Array(0);
    let probabilities = options.proba ? new Float32Array(0) : null;
    if (batch.length) {
      ({ labels, probabilities } = await classifier.predictBatch(Float32Array.from(batch), {
        proba: Boolean(options.proba),
      }));
    }
    await writeTo(process.stdout, textRows(chunk, labels, probabilities));
    rows += chunk.length;
  }
  if (rows === 0) {
    throw new InvalidInputError(text('input.empty', { name: input === '-' ? 'stdin' : input }));
  }
  if (skipped) process.stderr.write(`${text('cli.skipped_summary', { skipped, rows, where })}\n`);
}

// ---------------------------------------------------------------------------------------------
// info and verify

async function info({ options, values }) {
  if (values.length) throw new UsageError(`Got unexpected extra argument (${values[0]})`);
  const { describe } = await import('../lib/info.js');
  const classifier = await Classifier.load(options.model);
  await writeTo(process.stdout, `${describe(classifier, { json: Boolean(options.json) })}\n`);
}

/** A progress line on stderr for a person at a terminal; none in pipes, files or CI logs. */
function progressLine(total) {
  let done = 0;
  let shown = 0;
  return {
    update(n) {
      done += n;
      const now = performance.now();
      if (now - shown < 100 && done < total) return;
      shown = now;
      const width = 36;
      const filled = Math.round((width * done) / total);
      const percent = Math.floor((100 * done) / total);
      process.stderr.write(
        `\rverifying  [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]  ${percent}%`,
      );
    },
    end() {
      process.stderr.write('\n');
    },
  };
}

async function verifyCommand({ options, values }) {
  if (values.length) throw new UsageError(`Got unexpected extra argument (${values[0]})`);
  const { problemWith } = await import('../lib/validate.js');
  const { countFloats, DOMAIN_HIGH, DOMAIN_LOW } = await import('../lib/floats.js');
  const { verify } = await import('../lib/verify.js');
  // Numeric options arrive read and checked (finite, in range) by parseArgs, as click does.
  const samples = options.samples ?? 1_000_000;
  const seed = options.seed ?? 0;
  const ruleThreshold = options.ruleThreshold ?? null;
  const [low, high] = options.range ?? [DOMAIN_LOW, DOMAIN_HIGH];
  for (const [name, value] of [
    ['LO', low],
    ['HI', high],
  ]) {
    const reason = problemWith(value);
    if (reason !== null) {
      throw new InvalidInputError(
        text('verify.range_value', { name, value: floatRepr(value), reason }),
      );
    }
  }
  if (!(low <= high)) {
    throw new InvalidInputError(
      text('verify.range_order', { low: floatRepr(low), high: floatRepr(high) }),
    );
  }
  const classifier = await Classifier.load(options.model);
  const exhaustive = Boolean(options.exhaustive);
  const progress =
    process.stderr.isTTY && !options.quiet
      ? progressLine(exhaustive ? countFloats(low, high) : samples)
      : null;
  const report = await verify(classifier, {
    low,
    high,
    exhaustive,
    samples,
    seed,
    ruleThreshold,
    onProgress: progress ? (n) => progress.update(n) : null,
  });
  progress?.end();
  const rate = report.seconds > 0 ? report.checked / report.seconds : Infinity;
  const lines = [
    `model      ${classifier.path}`,
    `rule       ${report.rule}`,
    `range      [${floatRepr(low)}, ${floatRepr(high)}] °F, ${report.mode}`,
    `checked    ${thousands(report.checked)} values`,
    `mismatches ${thousands(report.mismatches)} (${((100 * report.mismatches) / report.checked).toFixed(4)}%)`,
    `probability ${thousands(report.probabilityViolations)} violations ` +
      '(monotone in x; >= 0.5 exactly when label is 1)',
    `time       ${report.seconds.toFixed(2)} s (${thousandsFixed(rate)} values/s)`,
  ];
  if (classifier.boundary !== null) {
    lines.push(`boundary   model ${floatRepr(classifier.boundary)} °F (from its metadata)`);
  }
  if (report.wrongSpan) {
    const [lo, hi] = report.wrongSpan.map(floatRepr);
    lines.push(`wrong      every mismatch lies in [${lo}, ${hi}] °F`);
  }
  for (const [x, got, want] of report.first) {
    lines.push(`  mismatch at ${floatRepr(x)} °F: model ${got}, formula ${want}`);
  }
  await writeTo(process.stdout, `${lines.join('\n')}\n`);
  if (report.mismatches || report.probabilityViolations) {
    throw new MismatchError(
      text('verify.mismatch', {
        mismatches: thousands(report.mismatches),
        checked: thousands(report.checked),
        violations: thousands(report.probabilityViolations),
      }),
    );
  }
}

// ---------------------------------------------------------------------------------------------

const COMMANDS = { predict, info, verify: verifyCommand };

function version() {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  return `fclf-edge, version ${manifest.version}\n`;
}

async function main(argv) {
  const [command, ...args] = argv;
  if (command === '--version') return writeTo(process.stdout, version());
  if (command === '--help') return writeTo(process.stdout, HELP.main);
  if (command === undefined) {
    await writeTo(process.stdout, HELP.main);
    return EXIT.usage;
  }
  if (!COMMANDS[command]) throw new UsageError(`No such command '${command}'.`);
  const parsed = parseArgs(command, args);
  if (parsed.help) return writeTo(process.stdout, HELP[command]);
  return COMMANDS[command](parsed);
}

/** One line on stderr, the exit code, and no stack trace, whatever went wrong. */
function fail(error) {
  if (error instanceof ReaderGone) return EXIT.ok;
  const known = error instanceof FclfError;
  const message =
    String(error?.message ?? error)
      .split('\n')
      .join(' ') || error?.name;
  process.stderr.write(
    `${text('cli.error', { message: known ? message : `unexpected: ${message}` })}\n`,
  );
  return known ? error.exitCode : EXIT.mismatch;
}

guard(process.stdout);

let code;
try {
  code = (await main(process.argv.slice(2))) ?? EXIT.ok;
} catch (error) {
  code = fail(error);
}
process.exit(code);
