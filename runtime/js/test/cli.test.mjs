import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { CLI, MODEL, cli, models } from './helpers.mjs';

// Expected outputs are what the Python fclf-edge prints for the same arguments
// (tests/test_node.py also compares the two tools directly).
const TABLE = [
  [['predict', '33', '32', '-40'], 0, '1\n0\n0\n', ''],
  [['predict', '--proba', '33', '32', '-40'], 0, '1\t0.598645568\n0\t0.5\n0\t3.14625442e-13\n', ''],
  [['predict', '-459.67', '10000', '32.000004'], 0, '0\n1\n1\n', ''],
  [['predict', '33', 'nan'], 2, '', "Error: argument 2: 'nan' is not a number\n"],
  [
    ['predict', '33', '1e39'],
    2,
    '',
    "Error: argument 2: '1e39' overflows float32 (rounds to infinity; the largest float32 is 3.4028235e38)\n",
  ],
  // float32's largest value as float32 printers write it: valid, not an overflow.
  [['predict', '3.40282347e+38', '3.4028235e38', '32.000001'], 0, '1\n1\n0\n', ''],
  [['predict', '-460'], 2, '', "Error: argument 1: '-460' is below absolute zero (-459.67 °F)\n"],
  [['predict', ''], 2, '', 'Error: argument 1: empty value\n'],
  [
    ['predict', '32,5'],
    2,
    '',
    "Error: argument 1: '32,5' is not a number (a decimal comma? see --decimal-comma)\n",
  ],
  [['predict', '--decimal-comma', '32,5', '-40'], 0, '1\n0\n', ''],
  [
    ['predict', '--decimal-comma', '32.5'],
    2,
    '',
    "Error: argument 1: '32.5' has a decimal point; the decimal mark is set to a comma\n",
  ],
  [['predict'], 2, '', "Error: no values: pass VALUE arguments, --input FILE, or '-'\n"],
  [
    ['predict', '--on-invalid', 'skip', '33', 'x', '32'],
    0,
    '1\nskipped\n0\n',
    "skipped argument 2: 'x' is not a number\n1 of 3 arguments skipped\n",
  ],
  [
    ['predict', '--model', '/nonexistent.onnx', '33'],
    3,
    '',
    'Error: model file not found: /nonexistent.onnx\n',
  ],
  [
    ['predict', '--input', '/nonexistent.txt'],
    2,
    '',
    'Error: input file not found: /nonexistent.txt\n',
  ],
  [['verify', '--range', '5', '1'], 2, '', 'Error: --range: LO 5.0 is above HI 1.0\n'],
  [
    ['verify', '--range', '-500', '1'],
    2,
    '',
    'Error: --range LO -500.0 is below absolute zero (-459.67 °F)\n',
  ],
  [
    ['verify', '--samples', '0'],
    2,
    '',
    "Error: Invalid value for '--samples' / '-n': 0 is not in the range 1<=x<=4294967296.\n",
  ],
  [
    ['verify', '--samples', '1000', '--rule-threshold', 'nan'],
    2,
    '',
    "Error: Invalid value for '--rule-threshold': 'nan' is not a finite number.\n",
  ],
  [['verify', '--bogus'], 2, '', 'Error: No such option: --bogus\n'],
  [['frobnicate'], 2, '', "Error: No such command 'frobnicate'.\n"],
  [['--version'], 0, 'fclf-edge, version 0.1.0\n', ''],
];

for (const [args, code, stdout, stderr] of TABLE) {
  test(`fclf-edge ${args.join(' ')} -> exit ${code}`, async () => {
    const result = await cli(args);
    assert.equal(result.stderr, stderr);
    assert.equal(result.stdout, stdout);
    assert.equal(result.code, code);
  });
}

test('bad model files exit 3 with one line, never a stack trace', async () => {
  const { garbage, foreign, folder } = models();
  for (const model of [garbage, foreign, folder]) {
    const result = await cli(['predict', '--model', model, '33']);
    assert.equal(result.code, 3);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^Error: [^\n]+\n$/);
  }
});

test('predict reads stdin and files, one value per line, in input order', async () => {
  const lines = ['33', ' -40.5 ', '+1e2', '.5', '32', '32.000004'];
  const stdin = await cli(['predict', '-'], { input: `${lines.join('\r\n')}\r\n` });
  assert.equal(stdin.stdout, '1\n0\n1\n0\n0\n1\n');
  assert.equal(stdin.code, 0);
  const path = join(models().folder, 'temps.txt');
  writeFileSync(path, '33\n32'); // no newline at the end: still a line
  const file = await cli(['predict', '--proba', '--input', path]);
  assert.equal(file.stdout, '1\t0.598645568\n0\t0.5\n');
  assert.equal(
    (await cli(['predict', '-'], { input: '' })).stderr,
    'Error: input stdin is empty: no values to classify\n',
  );
  const bad = await cli(['predict', '-'], { input: '33\nabc\n' });
  assert.equal(bad.code, 2);
  assert.equal(
    bad.stderr,
    "Error: line 2: 'abc' is not a number (use --on-invalid skip to skip bad lines)\n",
  );
  const binary = await cli(['predict', '-'], { input: '33\n\0\n' });
  assert.equal(binary.code, 2);
  assert.match(binary.stderr, /^Error: line 2: input is binary, not text \(NUL byte\)/);
});

test('a large stream is labelled in order with flat memory', async () => {
  // 1.5M lines (about 12 MB): several blocks and chunks; labels follow the formula.
  const n = 1_500_000;
  const values = Array.from({ length: n }, (_, i) =>
    i % 7 === 0 ? 32 : -459 + ((i * 7919) % 10459),
  );
  const path = join(models().folder, 'many.txt');
  writeFileSync(path, `${values.join('\n')}\n`);
  const result = await cli(['predict', '--input', path]);
  assert.equal(result.code, 0, result.stderr);
  const want = values.map((v) => ((v - 32) / 1.8 > 0 ? '1' : '0')).join('\n');
  assert.equal(result.stdout, `${want}\n`);
});

test('info prints the metadata; --json is one object', async () => {
  const text = await cli(['info']);
  assert.equal(text.code, 0);
  assert.match(text.stdout, new RegExp(`^path       ${MODEL}\n`));
  assert.match(text.stdout, /\ninput      fahrenheit: tensor\(float\) \['batch'\]\n/);
  assert.match(text.stdout, /\noutput     label: tensor\(int64\) \['batch'\]\n/);
  assert.match(text.stdout, /\n {2}boundary_fahrenheit {6}32\.0\n/);
  assert.match(text.stdout, /\n {2}training_config {10}.*refine=True.*rule_threshold=None/);
  const json = JSON.parse((await cli(['info', '--json', '--model', models().ort])).stdout);
  assert.equal(json.metadata.boundary_fahrenheit, '32.0');
  assert.deepEqual(json.inputs, [{ name: 'fahrenheit', shape: ['batch'], type: 'tensor(float)' }]);
});

test('verify --exhaustive on a narrow range checks every float32 in it', async () => {
  const result = await cli(['verify', '--exhaustive', '--range', '30', '34']);
  assert.equal(result.code, 0, result.stderr);
  assert.equal(result.stderr, ''); // no progress line off a terminal
  const lines = result.stdout.split('\n');
  assert.equal(lines[0], `model      ${MODEL}`);
  assert.equal(lines[1], 'rule       celsius > 0');
  assert.equal(lines[2], 'range      [30.0, 34.0] °F, exhaustive');
  assert.equal(lines[3], 'checked    1,572,865 values');
  assert.equal(lines[4], 'mismatches 0 (0.0000%)');
  assert.equal(
    lines[5],
    'probability 0 violations (monotone in x; >= 0.5 exactly when label is 1)',
  );
  assert.match(lines[6], /^time {7}\d+\.\d\d s \([\d,]+ values\/s\)$/);
});

test('verify reports mismatches against another rule and exits 1', async () => {
  const result = await cli([
    'verify',
    '--exhaustive',
    '--range',
    '30',
    '34',
    '--rule-threshold',
    '33',
    '--model',
    models().ort,
  ]);
  assert.equal(result.code, 1);
  assert.match(result.stdout, /\nrule {7}fahrenheit > 33\n/);
  assert.match(result.stdout, /\nmismatches 262,144 \(16\.6667%\)\n/);
  assert.match(
    result.stdout,
    /\nwrong {6}every mismatch lies in \[32\.000003814697266, 33\.0\] °F\n/,
  );
  assert.match(result.stdout, /\n {2}mismatch at 32\.000003814697266 °F: model 1, formula 0\n/);
  assert.equal(
    result.stderr,
    'Error: 262,144 of 1,572,865 labels differ from the rule, 0 probability violations\n',
  );
});

test('a full disk on stdout is one line and exit 6', async () => {
  for (const args of [['predict', '33'], ['info'], ['verify', '--range', '30', '34']]) {
    const result = await shell(`exec "${process.execPath}" "${CLI}" "$@" > /dev/full`, args);
    assert.equal(result.code, 6);
    assert.equal(result.stderr, 'Error: cannot write standard output: No space left on device\n');
  }
});

/** Run a bash command line (with `args` as "$@"); resolves to {code, stdout, stderr}. */
function shell(command, args = []) {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command, 'bash', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

test('a reader that goes away (EPIPE) ends the run quietly, exit 0', async () => {
  const path = join(models().folder, 'lines.txt');
  writeFileSync(path, '33\n'.repeat(2_000_000));
  const result = await shell(
    `"${process.execPath}" "${CLI}" predict --input "${path}" | head -n 1; echo "rc=\${PIPESTATUS[0]}"`,
  );
  assert.equal(result.stdout, '1\nrc=0\n');
  assert.equal(result.stderr, '');
});

test('SIGTERM exits 143 with "Terminated.", SIGINT 130 with "Interrupted."', async () => {
  for (const [signal, code, message] of [
    ['SIGTERM', 143, 'Terminated.\n'],
    ['SIGINT', 130, 'Interrupted.\n'],
  ]) {
    // predict - answers a live pipe line by line: once it has labelled 33, it is mid-run, waiting
    // on a stdin that never ends, with its handlers in place.
    const child = spawn(process.execPath, [CLI, 'predict', '-'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const answered = new Promise((resolve) => child.stdout.once('data', resolve));
    child.stdin.write('33\n');
    assert.equal(String(await answered), '1\n');
    child.kill(signal);
    const exit = await new Promise((r) => child.on('close', (c) => r(c)));
    assert.equal(exit, code);
    assert.equal(stderr, message);
  }
});
