// Float32 helpers: the domain, and walking float32 values in order through their bit patterns.
// Pure JavaScript (no Node built-ins), so the browser page imports it too.

export const ABSOLUTE_ZERO_F = -459.67;
// The domain's ends as float32, like the Python runtime: float32(-459.67) is the float32 nearest
// absolute zero (-459.670013...), and 10,000 °F is the top of the verified range.
export const DOMAIN_LOW = Math.fround(ABSOLUTE_ZERO_F);
export const DOMAIN_HIGH = Math.fround(10_000);
export const FLOAT32_MAX = 3.4028234663852886e38; // 2**128 - 2**104
// The smallest magnitude that rounds to infinity as float32 (Math.fround rounds half to even, and
// FLOAT32_MAX's last bit is odd), as in runtime/floats.py: 3.4028235e38 is FLOAT32_MAX, valid.
export const FLOAT32_OVERFLOW = 2 ** 128 - 2 ** 103;

const NEG = 0x80000000;
const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** An integer that sorts as the float32 nearest `value` does (-0 and +0 both map to 0). */
export function toOrdinal(value) {
  scratch[0] = value;
  const bits = scratchBits[0];
  return bits >= NEG ? NEG - bits : bits; // -0 and +0 both give +0
}

/** Inverse of `toOrdinal` (ordinal 0 gives +0). */
export function fromOrdinal(ordinal) {
  scratchBits[0] = ordinal < 0 ? NEG + -ordinal : ordinal;
  return scratch[0];
}

/** The float32 `steps` positions above `value` (negative steps go down). */
export function nextUp(value, steps = 1) {
  return fromOrdinal(toOrdinal(value) + steps);
}

/** How many distinct float32 values lie in [low, high], counting -0 and +0 separately. */
export function countFloats(low, high) {
  const lo = toOrdinal(low);
  const hi = toOrdinal(high);
  if (hi < lo) return 0;
  return hi - lo + 1 + (lo <= 0 && hi >= 0 ? 1 : 0);
}

/**
 * The float32 values in [low, high] as segments of consecutive bit patterns, in increasing order
 * of value: negative values (and -0) walk their bit patterns downwards, +0 and positive values
 * upwards. Each segment is {start, count, step}: bit patterns start, start + step, ...
 */
export function floatSegments(low, high) {
  const lo = toOrdinal(low);
  const hi = toOrdinal(high);
  const segments = [];
  if (hi < lo) return segments;
  if (lo <= 0) {
    const first = NEG + -lo;
    const last = NEG + Math.max(-hi, 0);
    segments.push({ start: first, count: first - last + 1, step: -1 });
  }
  if (hi >= 0) {
    const start = Math.max(lo, 0);
    segments.push({ start, count: hi - start + 1, step: 1 });
  }
  return segments;
}
