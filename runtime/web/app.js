// The page's one module: load the model into onnxruntime-web (single-threaded wasm, served from
// this folder's node_modules: no CDN), classify what the person types, plot the probability
// around the boundary. Parsing and checks are the Node package's own (../js/lib), so the page
// accepts and rejects exactly what the command-line tools do.

import { DOMAIN_HIGH, DOMAIN_LOW, fromOrdinal, toOrdinal } from '../js/lib/floats.js';
import { parseTokens } from '../js/lib/inputs.js';
import { floatRepr, formatG } from '../js/lib/pyformat.js';

// onnxruntime-web is imported when the page starts, not statically: a missing package then gets
// a message saying how to install it, where a failed static import would stop the page silently.
const ORT_FOLDER = new URL('./node_modules/onnxruntime-web/dist/', import.meta.url);
const ORT_MODULE = new URL('ort.wasm.min.mjs', ORT_FOLDER);
const INSTALL = 'npm ci --prefix runtime/web';
// A one-node model (Identity, 71 bytes): if onnxruntime-web cannot run it, the runtime is at
// fault (a missing or broken .wasm), not the model the person asked for.
const PROBE_MODEL = Uint8Array.from(
  atob(
    'CAgSADo7ChAKAXgSAXkiCElkZW50aXR5EgVwcm9iZVoPCgF4EgoKCAgBEgQKAggBYg8KAXkSCgoICAESBAoCCAFCBAoAEBE=',
  ),
  (c) => c.charCodeAt(0),
);
// Starting the runtime from 127.0.0.1 takes well under a second; a stalled download says so.
const RUNTIME_START_MS = 6000;

const DEFAULT_MODEL = new URL('../models/fahrenheit.onnx', import.meta.url).href;
const PLOT_HALF_WIDTH = 15; // °F each side of the boundary
const PLOT_POINTS = 601;

const $ = (id) => document.getElementById(id);
let ort = null; // the onnxruntime-web module, once started
let model = null; // {name, session, boundary: {lastZero, firstOne} | null}

/** A promise that rejects after `ms` when `promise` has not settled. */
function within(promise, ms, what) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/**
 * Import onnxruntime-web and run the probe model once, so a fault of the runtime is named as
 * such: a missing package with the command that installs it, a broken .wasm with the same.
 */
async function startRuntime() {
  try {
    ort = await import(ORT_MODULE.href);
  } catch (error) {
    throw new Error(
      `onnxruntime-web is missing: ${ORT_MODULE.pathname} did not load ` +
        `(${error?.message ?? error}). Install it with \`${INSTALL}\` and reload the page.`,
    );
  }
  // Set once, before the first session (as transformers.js does). An absolute URL: a relative
  // one would resolve against the ort module's folder. One thread: no SharedArrayBuffer, so the
  // page needs no cross-origin isolation headers and works from any static server.
  ort.env.wasm.wasmPaths = ORT_FOLDER.href;
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  try {
    const probe = await within(
      ort.InferenceSession.create(PROBE_MODEL),
      RUNTIME_START_MS,
      'starting the WebAssembly runtime',
    );
    await probe.release();
  } catch (error) {
    ort = null;
    throw new Error(
      `onnxruntime-web could not start its WebAssembly runtime (${error?.message ?? error}): ` +
        `a file in ${ORT_FOLDER.pathname} is missing or broken. Reinstall it with ` +
        `\`${INSTALL}\` and reload the page.`,
    );
  }
}

function showError(message) {
  const box = $('error');
  box.textContent = message;
  box.hidden = !message;
}

/** Labels (numbers) and probabilities for a Float32Array. */
export async function run(values, session = model.session) {
  const feeds = { fahrenheit: new ort.Tensor('float32', values, [values.length]) };
  const out = await session.run(feeds, ['label', 'probability']);
  return { labels: Array.from(out.label.data, Number), probabilities: out.probability.data };
}

function checkSignature(session, name) {
  const inputs = session.inputMetadata.map((m) => `${m.name} (${m.type})`).join(', ');
  const outputs = session.outputMetadata.map((m) => `${m.name} (${m.type})`).join(', ');
  const type = (list, n) => list.find((m) => m.name === n)?.type;
  const ok =
    session.inputNames.length === 1 &&
    type(session.inputMetadata, 'fahrenheit') === 'float32' &&
    type(session.outputMetadata, 'probability') === 'float32' &&
    type(session.outputMetadata, 'label') === 'int64';
  if (!ok) {
    throw new Error(
      `${name} is not an fclf-edge model: inputs ${inputs}, outputs ${outputs}; expected input ` +
        "'fahrenheit' (float32) and outputs 'probability' (float32) and 'label' (int64)",
    );
  }
}

/**
 * Where the labels turn from 0 to 1, found by asking the model (any model the person picks,
 * metadata or not): a coarse grid, then bisection over float32 bit patterns, 1024 at a time.
 */
async function findBoundary(session) {
  let lo = toOrdinal(DOMAIN_LOW);
  let hi = toOrdinal(DOMAIN_HIGH);
  const first = await run(Float32Array.of(fromOrdinal(lo), fromOrdinal(hi)), session);
  if (first.labels[0] !== 0 || first.labels[1] !== 1) return null;
  while (hi - lo > 1) {
    const n = Math.min(1024, hi - lo - 1);
    const ordinals = Array.from(
      { length: n },
      (_, i) => lo + Math.round(((i + 1) * (hi - lo)) / (n + 1)),
    );
    const { labels } = await run(Float32Array.from(ordinals, fromOrdinal), session);
    const at = labels.indexOf(1);
    if (at === -1) lo = ordinals[n - 1];
    else {
      hi = ordinals[at];
      if (at > 0) lo = ordinals[at - 1];
    }
  }
  return { lastZero: fromOrdinal(lo), firstOne: fromOrdinal(hi) };
}

async function loadModel(source, name) {
  document.body.dataset.state = 'loading';
  $('model-status').textContent = `Loading ${name}…`;
  if (ort === null) await startRuntime();
  let session;
  try {
    session = await ort.InferenceSession.create(source);
  } catch (error) {
    throw new Error(`${name} is not a valid ONNX or ORT model (${error.message ?? error})`);
  }
  checkSignature(session, name);
  const boundary = await findBoundary(session);
  model = { name, session, boundary };
  $('model-status').textContent = boundary
    ? `Model ${name}: label 1 above ${floatRepr(boundary.lastZero)} °F ` +
      `(the next float32, ${floatRepr(boundary.firstOne)} °F, is the first labelled 1).`
    : `Model ${name}: its labels do not turn from 0 to 1 between −459.67 and 10,000 °F.`;
}

function tokens(text) {
  return text.split(/[\s,;]+/).filter((t) => t !== '');
}

function cell(text, className) {
  const td = document.createElement('td');
  td.textContent = text;
  if (className) td.className = className;
  return td;
}

async function classify() {
  showError('');
  const typed = tokens($('temperatures').value);
  if (typed.length === 0) {
    showError('Type at least one temperature in °F, e.g. 33, 32, -40.');
    return;
  }
  const chunk = parseTokens(typed, 1);
  const valid = typed.map((_, i) => i).filter((i) => !chunk.invalid.has(i));
  const { labels, probabilities } = valid.length
    ? await run(Float32Array.from(valid, (i) => chunk.values[i]))
    : { labels: [], probabilities: [] };
  const body = $('results').tBodies[0];
  body.replaceChildren();
  const points = [];
  typed.forEach((token, i) => {
    const tr = document.createElement('tr');
    const reason = chunk.invalid.get(i);
    if (reason !== undefined) {
      tr.className = 'invalid';
      tr.append(cell(token, 'number'), cell('—'), cell(reason), cell('—'));
    } else {
      const k = valid.indexOf(i);
      const fahrenheit = Math.fround(chunk.values[i]);
      tr.dataset.label = String(labels[k]);
      tr.append(
        cell(token, 'number'),
        cell(String(labels[k]), 'number'),
        cell(labels[k] === 1 ? 'above freezing' : 'at or below freezing', 'meaning'),
        cell(formatG(probabilities[k]), 'number probability'),
      );
      points.push({ fahrenheit, label: labels[k], probability: probabilities[k] });
    }
    body.append(tr);
  });
  $('results').hidden = false;
  if (chunk.invalid.size) {
    const [first] = chunk.invalidPositions();
    const more = chunk.invalid.size > 1 ? ` (and ${chunk.invalid.size - 1} more)` : '';
    showError(
      `Value ${first + 1}: ${chunk.invalid.get(first)}${more}. The other values are classified below.`,
    );
  }
  await plot(points);
}

/** The probability around the boundary as an SVG line, with the typed values on it. */
async function plot(points) {
  const figure = $('plot-figure');
  if (!model.boundary) {
    figure.hidden = true;
    return;
  }
  const center = model.boundary.lastZero;
  const [x0, x1] = [center - PLOT_HALF_WIDTH, center + PLOT_HALF_WIDTH];
  const xs = Float32Array.from(
    { length: PLOT_POINTS },
    (_, i) => x0 + ((x1 - x0) * i) / (PLOT_POINTS - 1),
  );
  const { probabilities } = await run(xs.map((x) => Math.max(x, DOMAIN_LOW)));
  const [w, h, left, right, top, bottom] = [640, 300, 44, 12, 12, 32];
  const sx = (x) => left + ((x - x0) / (x1 - x0)) * (w - left - right);
  const sy = (p) => top + (1 - p) * (h - top - bottom);
  const parts = [];
  for (let t = Math.ceil(x0 / 5) * 5; t <= x1; t += 5) {
    parts.push(`<line class="grid" x1="${sx(t)}" x2="${sx(t)}" y1="${top}" y2="${h - bottom}"/>`);
    parts.push(`<text x="${sx(t)}" y="${h - bottom + 16}" text-anchor="middle">${t} °F</text>`);
  }
  for (const p of [0, 0.5, 1]) {
    parts.push(
      `<line class="${p === 0.5 ? 'half' : 'grid'}" x1="${left}" x2="${w - right}" y1="${sy(p)}" y2="${sy(p)}"/>`,
    );
    parts.push(`<text x="${left - 6}" y="${sy(p) + 4}" text-anchor="end">${p}</text>`);
  }
  parts.push(
    `<line class="boundary" x1="${sx(center)}" x2="${sx(center)}" y1="${top}" y2="${h - bottom}"/>`,
  );
  const path = Array.from(
    xs,
    (x, i) => `${sx(x).toFixed(1)},${sy(probabilities[i]).toFixed(1)}`,
  ).join(' ');
  parts.push(`<polyline class="curve" points="${path}"/>`);
  for (const point of points.filter((p) => p.fahrenheit >= x0 && p.fahrenheit <= x1)) {
    parts.push(
      `<circle class="point-${point.label}" cx="${sx(point.fahrenheit)}" cy="${sy(point.probability)}" r="4.5">` +
        `<title>${point.fahrenheit} °F: label ${point.label}, p = ${formatG(point.probability)}</title></circle>`,
    );
  }
  $('plot').innerHTML = parts.join('');
  $('plot-caption').textContent =
    `Probability of "above freezing" from ${floatRepr(Math.fround(x0))} to ${floatRepr(Math.fround(x1))} °F; ` +
    `the dashed line marks the boundary at ${floatRepr(center)} °F. Dots: your values in this window.`;
  figure.hidden = false;
}

async function guarded(work) {
  try {
    await work();
    document.body.dataset.state = 'ready';
  } catch (error) {
    showError(String(error?.message ?? error));
    document.body.dataset.state = model ? 'ready' : 'error';
    $('model-status').textContent = model
      ? `Model ${model.name} (unchanged).`
      : ort
        ? 'No model loaded.'
        : 'No model loaded: the runtime did not start.';
  }
}

$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  if (model) guarded(classify);
});

$('model-file').addEventListener('change', (event) => {
  const [file] = event.target.files;
  if (file) {
    guarded(async () => {
      await loadModel(new Uint8Array(await file.arrayBuffer()), file.name);
      await classify();
    });
  }
});

window.addEventListener('error', (event) => showError(`Unexpected error: ${event.message}`));
window.addEventListener('unhandledrejection', (event) =>
  showError(`Unexpected error: ${event.reason}`),
);

const wanted = new URLSearchParams(location.search).get('f');
if (wanted !== null) $('temperatures').value = tokens(wanted).join(', ');
guarded(async () => {
  await loadModel(DEFAULT_MODEL, 'fahrenheit.onnx');
  if (wanted !== null) await classify();
});
