// Drive the page in headless Chromium (Debian's /usr/bin/chromium, through playwright-core; no
// browser is downloaded) and print what a person would see, as one JSON object on stdout.
// tests/test_web.py serves runtime/ on 127.0.0.1, runs this, and checks the JSON.
//
//   node runtime/web/test/drive.mjs --url http://127.0.0.1:PORT/web/index.html
//        [--ort MODEL.ort] [--bad-model FILE] [--screenshot FILE.png] [--agreement N]
//        [--grammar tests/data/number-grammar.json] [--only-load]
//
// --only-load opens the page once and reports what it shows when it stops loading (for pages
// served without their runtime, or with a broken one).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { chromium } from 'playwright-core';

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    ort: { type: 'string' },
    'bad-model': { type: 'string' },
    screenshot: { type: 'string' },
    agreement: { type: 'string', default: '0' },
    grammar: { type: 'string' },
    'only-load': { type: 'boolean', default: false },
    chromium: { type: 'string', default: '/usr/bin/chromium' },
  },
});

const profile = mkdtempSync(join(tmpdir(), 'fclf-edge-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: args.chromium,
  headless: true,
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-quic',
    '--no-first-run',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
  ],
  viewport: { width: 900, height: 1000 },
});

const report = { requests: [], consoleErrors: [], pageErrors: [] };
context.on('request', (request) => report.requests.push(request.url()));

async function open(query, into = report) {
  const page = await context.newPage();
  page.on('console', (message) => {
    if (message.type() === 'error') into.consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => into.pageErrors.push(String(error)));
  const started = Date.now();
  await page.goto(`${args.url}${query}`);
  await page.waitForSelector('body:not([data-state="loading"])', { timeout: 120_000 });
  return { page, ms: Date.now() - started };
}

/** What the page shows: state, error box, result rows, status line, plot. */
async function seen(page) {
  return page.evaluate(() => ({
    state: document.body.dataset.state,
    error: document.getElementById('error').hidden
      ? null
      : document.getElementById('error').textContent,
    status: document.getElementById('model-status').textContent,
    input: document.getElementById('temperatures').value,
    rows: Array.from(document.querySelectorAll('#results tbody tr'), (tr) => ({
      label: tr.dataset.label ?? null,
      invalid: tr.classList.contains('invalid'),
      cells: Array.from(tr.cells, (td) => td.textContent),
    })),
    plotVisible: !document.getElementById('plot-figure').hidden,
    plotPoints: document.querySelectorAll('#plot circle').length,
    curvePoints: (document.querySelector('#plot polyline')?.getAttribute('points') ?? '')
      .split(' ')
      .filter(Boolean).length,
  }));
}

/**
 * The grammar table through the page: every row through the parser module the page imports
 * (its float32 bit pattern or its reason), and the rows a person could type as one value
 * (no space, comma or semicolon: the page splits on those) typed into the box and classified.
 */
async function grammar(page, rows) {
  const parsed = await page.evaluate(async (rows) => {
    const { chunkFromArgs } = await import('../js/lib/inputs.js');
    const bits = (x) => new Uint32Array(Float32Array.of(x).buffer)[0];
    return rows.map((row) => {
      const chunk = chunkFromArgs([row.text], { decimalComma: row.decimal_comma });
      const reason = chunk.invalid.get(0) ?? null;
      return { text: row.text, reason, bits: reason === null ? bits(chunk.values[0]) : null };
    });
  }, rows);
  const typeable = rows.filter((row) => !row.decimal_comma && /^[^\s,;]+$/.test(row.text));
  await page.fill('#temperatures', typeable.map((row) => row.text).join('\n'));
  await page.click('#classify');
  await page.waitForFunction(
    (n) => document.querySelectorAll('#results tbody tr').length === n,
    typeable.length,
  );
  const shown = await seen(page);
  return {
    parsed,
    typed: typeable.map((row, i) => ({
      text: row.text,
      label: shown.rows[i].label,
      cells: shown.rows[i].cells,
    })),
  };
}

if (args['only-load']) {
  try {
    const load = { consoleErrors: [], pageErrors: [] };
    const { page, ms } = await open('', load);
    Object.assign(load, await seen(page), { ms });
    process.stdout.write(`${JSON.stringify({ ...load, requests: report.requests })}\n`);
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
  process.exit(0);
}

try {
  const first = await open('?f=33,32,-40');
  report.query = await seen(first.page);
  report.firstResultMs = first.ms;
  if (args.screenshot) {
    await first.page.evaluate(() => {
      document.getElementById('temperatures').value = '33, 32, -40, 98.6, 20, 45';
      document.getElementById('classify').click();
    });
    await first.page.waitForFunction(
      () => document.querySelectorAll('#results tbody tr').length === 6,
    );
    await first.page.screenshot({ path: args.screenshot, fullPage: true });
  }

  const bad = await open('?f=33,abc,-500');
  report.badInput = await seen(bad.page);

  const typed = await open('');
  await typed.page.fill('#temperatures', '-459.67\n10000 32.0000039');
  await typed.page.click('#classify');
  await typed.page.waitForFunction(
    () => document.querySelectorAll('#results tbody tr').length === 3,
  );
  report.typed = await seen(typed.page);

  if (args.grammar) {
    const rows = JSON.parse(readFileSync(args.grammar, 'utf8')).rows;
    report.grammar = await grammar((await open('')).page, rows);
  }

  if (args['bad-model']) {
    await typed.page.setInputFiles('#model-file', args['bad-model']);
    await typed.page.waitForFunction(() => !document.getElementById('error').hidden);
    report.badModel = await seen(typed.page);
  }
  if (args.ort) {
    const page = (await open('?f=33,32,-40')).page;
    await page.setInputFiles('#model-file', args.ort);
    await page.waitForFunction(() =>
      document.getElementById('model-status').textContent.includes('.ort'),
    );
    await page.waitForSelector('body[data-state="ready"]');
    report.ortModel = await seen(page);
  }

  const n = Number(args.agreement);
  if (n > 0) {
    // The same values tests/test_web.py builds with numpy: the ±n float32 neighbours of 32 °F, then
    // a grid of n values over the domain, computed in float64 and rounded to float32.
    report.agreement = await typed.page.evaluate(async (n) => {
      const { run } = await import('./app.js');
      const { toOrdinal, fromOrdinal, DOMAIN_LOW, DOMAIN_HIGH } =
        await import('../js/lib/floats.js');
      const center = toOrdinal(32);
      const values = new Float32Array(2 * n + 1 + n);
      for (let i = 0; i <= 2 * n; i++) values[i] = fromOrdinal(center - n + i);
      for (let i = 0; i < n; i++)
        values[2 * n + 1 + i] = DOMAIN_LOW + ((DOMAIN_HIGH - DOMAIN_LOW) * i) / (n - 1);
      let labels = '';
      for (let start = 0; start < values.length; start += 1 << 20) {
        const out = await run(values.subarray(start, start + (1 << 20)));
        labels += out.labels.join('');
      }
      return labels;
    }, n);
  }
} finally {
  await context.close();
  rmSync(profile, { recursive: true, force: true });
}
process.stdout.write(`${JSON.stringify(report)}\n`);
