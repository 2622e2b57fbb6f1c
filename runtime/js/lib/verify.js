// Check a model against the formula, exhaustively over float32 values or on random samples, as
// the Python runtime's verify does (runtime/verify.py). The values are split into chunks that
// worker threads generate and check with their own onnxruntime sessions: onnxruntime-node runs
// a session on the calling thread, so threads are what put every core to work.

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';

import { DOMAIN_HIGH, DOMAIN_LOW, floatSegments } from './floats.js';
import { formatG, thousands } from './pyformat.js';

// 256K values a chunk: big enough that a run's fixed cost (~0.1 ms) vanishes, small enough that
// each worker's onnxruntime buffers stay near 50 MB (2M-value chunks took ~170 MB per worker, as
// the graph's float64 intermediates grow with the chunk).
export const VERIFY_CHUNK = 1 << 18;
export const MAX_REPORTED = 10;

/** The jobs that cover [low, high]: every float32 in it, or `samples` random ones. */
function* jobs({ low, high, exhaustive, samples, seed }) {
  let index = 0;
  if (exhaustive) {
    for (const { start, count, step } of floatSegments(low, high)) {
      for (let done = 0; done < count; done += VERIFY_CHUNK) {
        const size = Math.min(VERIFY_CHUNK, count - done);
        yield { index: index++, kind: 'range', start: start + step * done, count: size, step };
      }
    }
    return;
  }
  for (let done = 0; done < samples; done += VERIFY_CHUNK) {
    const count = Math.min(VERIFY_CHUNK, samples - done);
    yield { index, kind: 'samples', low, high, count, seed, chunk: index++ };
  }
}

function startWorker(modelBytes, threshold) {
  const worker = new Worker(new URL('./verify-worker.js', import.meta.url), {
    workerData: { modelBytes, threshold, chunkSize: VERIFY_CHUNK, maxReported: MAX_REPORTED },
  });
  worker.unref(); // an interrupted walk must not keep the process alive
  return worker;
}

/**
 * Compare the model's labels with the rule on every float32 in [low, high] (`exhaustive`) or on
 * `samples` random values. The rule is C = (F - 32) / 1.8 > 0, or F > `ruleThreshold`.
 * Returns {checked, mismatches, probabilityViolations, first, wrongSpan, seconds, low, high, mode,
 * rule}.
 */
export async function verify(
  classifier,
  {
    low = DOMAIN_LOW,
    high = DOMAIN_HIGH,
    exhaustive = false,
    samples = 1_000_000,
    seed = 0,
    ruleThreshold = null,
    workers = Math.min(availableParallelism(), 4),
    onProgress = null,
  } = {},
) {
  const started = performance.now();
  const report = {
    checked: 0,
    mismatches: 0,
    probabilityViolations: 0,
    first: [],
    wrongSpan: null, // [lowest, highest] input the model gets wrong: how far off its boundary is
    seconds: 0,
    low,
    high,
    mode: exhaustive ? 'exhaustive' : `${thousands(samples)} samples (seed ${seed})`,
    rule: ruleThreshold === null ? 'celsius > 0' : `fahrenheit > ${formatG(ruleThreshold, 6)}`,
  };
  const queue = jobs({ low, high, exhaustive, samples, seed });
  const done = new Map(); // results that arrived before an earlier chunk's
  let nextToCollect = 0;
  let lastP = null;

  const collect = (result) => {
    report.checked += result.n;
    report.mismatches += result.wrong;
    report.first.push(...result.first.slice(0, MAX_REPORTED - report.first.length));
    report.probabilityViolations += result.violations;
    if (result.wrongSpan) {
      const [lo, hi] = result.wrongSpan;
      report.wrongSpan = report.wrongSpan
        ? [Math.min(lo, report.wrongSpan[0]), Math.max(hi, report.wrongSpan[1])]
        : [lo, hi];
    }
    // Exhaustive chunks are in increasing x: the step between two chunks counts too.
    if (exhaustive && lastP !== null && result.pFirst < lastP) report.probabilityViolations++;
    lastP = result.pLast;
    onProgress?.(result.n);
  };

  const pool = Array.from({ length: Math.max(1, workers) }, () =>
    startWorker(classifier.bytes, ruleThreshold),
  );
  const exited = new Set();
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise((resolve, reject) => {
            // A worker is done when it has exited by itself: told there is no more work, it
            // releases its session and closes its port. Terminating it while onnxruntime-node
            // is still releasing aborts the whole process ("terminate called after throwing an
            // instance of 'Napi::Error'"), a few runs in a hundred.
            const feed = () => {
              const next = queue.next();
              worker.postMessage(next.done ? null : next.value);
              if (next.done) worker.ref(); // keep the process alive until the worker has exited
            };
            worker.on('message', (message) => {
              if (!message.ready) {
                done.set(message.index, message);
                while (done.has(nextToCollect)) {
                  collect(done.get(nextToCollect));
                  done.delete(nextToCollect++);
                }
              }
              feed();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => {
              exited.add(worker);
              if (code === 0) resolve();
              else reject(new Error(`a verify worker stopped with code ${code}`));
            });
          }),
      ),
    );
  } finally {
    // Only after a failure: stop the workers that are still running.
    await Promise.all(pool.filter((w) => !exited.has(w)).map((worker) => worker.terminate()));
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
