import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { EXIT } from 'fclf-edge';

import { HELP } from '../lib/cli-args.js';
import { CATALOGUE, CATALOGUE_URL, exitCodes, exitCodesHelp, text } from '../lib/messages.js';
import { ROOT, cli } from './helpers.mjs';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const SHARED = join(ROOT, 'runtime', 'messages.json');

test('the package reads the repository catalogue, runtime/messages.json, as it is', () => {
  assert.equal(fileURLToPath(CATALOGUE_URL), SHARED);
  assert.deepEqual(CATALOGUE, JSON.parse(readFileSync(SHARED, 'utf8')));
});

test('a packed package carries the same catalogue and reads its own copy', () => {
  const folder = mkdtempSync(join(tmpdir(), 'fclf-edge-pack-'));
  try {
    const pack = spawnSync('npm', ['pack', '--json', '--pack-destination', folder], {
      cwd: PACKAGE,
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, pack.stderr);
    const [{ filename }] = JSON.parse(pack.stdout);
    const untar = spawnSync('tar', ['-xzf', join(folder, filename), '-C', folder]);
    assert.equal(untar.status, 0, String(untar.stderr));
    const packed = join(folder, 'package');
    assert.deepEqual(readFileSync(join(packed, 'messages.json')), readFileSync(SHARED));
    const url = pathToFileURL(join(packed, 'lib', 'messages.js')).href;
    const loaded = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(url)});` +
          'console.log(JSON.stringify({ url: m.CATALOGUE_URL.href, catalogue: m.CATALOGUE }));',
      ],
      { encoding: 'utf8' },
    );
    assert.equal(loaded.status, 0, loaded.stderr);
    const { url: from, catalogue } = JSON.parse(loaded.stdout);
    assert.equal(fileURLToPath(from), join(packed, 'messages.json'));
    assert.deepEqual(catalogue, JSON.parse(readFileSync(SHARED, 'utf8')));
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('EXIT holds every exit code the Node CLI can end with, from the catalogue', () => {
  assert.deepEqual(
    { ...EXIT },
    { ok: 0, mismatch: 1, usage: 2, model: 3, write: 6, interrupted: 130, terminated: 143 },
  );
  assert.deepEqual(
    exitCodes('node').map((c) => c.code),
    [0, 1, 2, 3, 6, 130, 143],
  );
  assert.deepEqual(
    exitCodes('python').map((c) => c.code),
    [0, 1, 2, 3, 4, 5, 6, 130, 143],
  );
});

test('every help text lists the exit codes, 130 and 143 included', async () => {
  for (const [command, help] of Object.entries(HELP)) {
    const flat = help.split(/\s+/).join(' ');
    assert.ok(flat.includes(exitCodesHelp('node')), command);
    assert.match(flat, /130 interrupted \(Ctrl-C\); 143 terminated \(SIGTERM\)\./, command);
    assert.ok(
      help.split('\n').every((line) => line.length <= 80),
      command,
    );
  }
  const shown = await cli(['verify', '--help']);
  assert.equal(shown.stdout, HELP.verify);
});

test('templates fill {name} placeholders and refuse missing ones', () => {
  assert.equal(
    text('reason.below_absolute_zero', { absolute_zero: -459.67 }),
    'is below absolute zero (-459.67 °F)',
  );
  assert.equal(
    text('cli.skipped_summary', { skipped: 1, rows: 3, where: 'line' }),
    '1 of 3 lines skipped',
  );
  assert.throws(() => text('cli.skipped_summary', { skipped: 1 }), /needs a value for \{rows\}/);
  assert.throws(() => text('no.such.key'), /no message 'no\.such\.key'/);
});
