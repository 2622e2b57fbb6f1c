// Type-checked by types.test.mjs (tsc --noEmit, strict): the declarations in index.d.ts describe
// what the README shows, and a wrong use is an error.
import { Classifier, InvalidInputError, ModelError, verify, EXIT } from 'fclf-edge';
const c: Classifier = await Classifier.load();
const a: number[] = await c.predict([33, 32]);
const b: number = await c.predict(33);
const p = await c.predictWithProba(new Float32Array([1]));
const l: number[] = p.labels;
const m: string | undefined = c.metadata['units'];
const bd: number | null = c.boundary;
const r = await verify(c, { exhaustive: false, samples: 10 });
const s: [number, number] | null = r.wrongSpan;
try {
  await c.predict([NaN]);
} catch (e) {
  if (e instanceof InvalidInputError) {
    const i: number | null = e.index;
  }
}
const code: 6 = EXIT.write;
void [a, b, l, m, bd, s, code, ModelError];
