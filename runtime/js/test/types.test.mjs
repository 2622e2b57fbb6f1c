import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { models } from './helpers.mjs';

const PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const TSC = join(PACKAGE, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(project) {
  return spawnSync(process.execPath, [TSC, '-p', project], { encoding: 'utf8', cwd: PACKAGE });
}

test('index.d.ts type-checks the README-style usage under strict TypeScript', () => {
  const result = tsc(join(PACKAGE, 'test', 'types'));
  assert.equal(result.status, 0, result.stdout + result.stderr);
});

test('and rejects a wrong use (a label is a number, not a string)', () => {
  const folder = models().folder;
  writeFileSync(
    join(folder, 'wrong.mts'),
    "import { Classifier } from 'fclf-edge';\nconst c = await Classifier.load();\nconst s: string = await c.predict(33);\nvoid s;\n",
  );
  writeFileSync(
    join(folder, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        module: 'nodenext',
        moduleResolution: 'nodenext',
        target: 'es2022',
        strict: true,
        noEmit: true,
        types: [],
        baseUrl: '.',
        paths: { 'fclf-edge': [join(PACKAGE, 'index.d.ts')] },
      },
      files: ['wrong.mts'],
    }),
  );
  const result = tsc(folder);
  assert.notEqual(result.status, 0);
  assert.match(result.stdout, /Type 'number' is not assignable to type 'string'/);
});
