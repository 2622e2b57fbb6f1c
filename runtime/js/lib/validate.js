// Turn user values into a float32 batch, or say exactly which value is wrong and why: the same
// rules as the Python runtime (runtime/validate.py). Pure JavaScript: the page uses it too.

import { InvalidInputError } from './errors.js';
import { ABSOLUTE_ZERO_F, DOMAIN_LOW, FLOAT32_OVERFLOW } from './floats.js';
import { text } from './messages.js';
import { floatRepr, strRepr } from './pyformat.js';

/**
 * Why one number is not a valid °F input, or null if it is. The value is rounded to float32
 * first, as the model sees it: it overflows only when Math.fround gives ±Infinity, so
 * 3.4028235e38 is float32's largest value, and float32(-459.67) is the domain's low end.
 */
export function problemWith(value) {
  if (Number.isNaN(value)) return text('reason.nan');
  if (!Number.isFinite(value)) return text('reason.infinity');
  if (Math.abs(value) >= FLOAT32_OVERFLOW) return text('reason.overflow');
  if (Math.fround(value) < DOMAIN_LOW) {
    return text('reason.below_absolute_zero', { absolute_zero: ABSOLUTE_ZERO_F });
  }
  return null;
}

/** Whether a number is a valid °F input: the fast test, true for almost every value. */
export function isValid(value) {
  return Math.fround(value) >= DOMAIN_LOW && Math.abs(value) < FLOAT32_OVERFLOW;
}

function describe(item) {
  if (typeof item === 'string') return strRepr(item);
  if (typeof item === 'bigint') return `${item}n`;
  if (item === null || item === undefined) return String(item);
  if (typeof item === 'object') return Array.isArray(item) ? 'an array' : 'an object';
  return String(item);
}

/** The number an element stands for: a number, a bigint, or a one-element array (n × 1 input). */
function elementNumber(item, index) {
  if (Array.isArray(item) && item.length === 1) item = item[0];
  if (typeof item === 'number') return item;
  if (typeof item === 'bigint') return Number(item); // beyond float32 it is rejected below
  throw new InvalidInputError(text('api.not_real_at', { value: describe(item), index }), {
    index,
    value: item,
  });
}

/**
 * Validate `values` (a number, or an array / typed array / iterable of numbers) and return
 * {batch: Float32Array, scalar: boolean}. Throws InvalidInputError naming the first bad element.
 */
export function asBatch(values) {
  if (typeof values === 'number' || typeof values === 'bigint') {
    const value = Number(values);
    const reason = problemWith(value);
    if (reason !== null) {
      throw new InvalidInputError(text('api.value', { value: floatRepr(value), reason }), {
        index: 0,
        value: values,
      });
    }
    return { batch: Float32Array.of(value), scalar: true };
  }
  if (typeof values === 'string') {
    throw new InvalidInputError(
      text('api.text', { value: strRepr(values), parse: 'Number(text)' }),
      { value: values },
    );
  }
  if (values instanceof Float32Array || values instanceof Float64Array) {
    return { batch: checked(values), scalar: false };
  }
  if (values === null || typeof values !== 'object' || !(Symbol.iterator in values)) {
    throw new InvalidInputError(
      `expected a number or an array of numbers, got ${describe(values)}`,
    );
  }
  const items = Array.isArray(values) || ArrayBuffer.isView(values) ? values : Array.from(values);
  const numbers = new Float64Array(items.length);
  for (let i = 0; i < items.length; i++) numbers[i] = elementNumber(items[i], i);
  return { batch: checked(numbers), scalar: false };
}

/** A Float32Array of `numbers` after the domain checks (any float array in). */
function checked(numbers) {
  for (let i = 0; i < numbers.length; i++) {
    const value = numbers[i];
    // Fast test first: almost every value is a finite number inside the domain.
    if (!isValid(value)) {
      const reason = problemWith(value);
      if (reason !== null) {
        throw new InvalidInputError(
          text('api.value_at', { value: floatRepr(value), index: i, reason }),
          { index: i, value },
        );
      }
    }
  }
  return numbers instanceof Float32Array ? numbers : Float32Array.from(numbers);
}
