// Numbers and strings printed exactly as the Python CLI prints them (repr, '%.9g', '{:,}'), so the
// two command-line tools give byte-identical output. Pure JavaScript: the page uses it too.

/** Python's repr() of a float: shortest round-trip digits, '.0' on integers, e+XX exponents. */
export function floatRepr(x) {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() without an argument gives the shortest digits that round-trip, as repr does.
  const [mantissa, exp] = Math.abs(x).toExponential().split('e');
  const digits = mantissa.replace('.', '');
  const e = Number(exp);
  const sign = x < 0 ? '-' : '';
  // repr switches to an exponent below 1e-4 and from 1e16 up.
  if (e < -4 || e >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = digits.slice(e + 1) || '0';
  return `${sign}${whole}.${fraction}`;
}

/**
 * The `precision` significant digits of |x| and the decimal exponent, rounded half to even on
 * the exact binary value as Python does (toExponential rounds a tie away from zero).
 */
function significant(x, precision) {
  let [mantissa, exp] = x.toExponential(precision - 1).split('e');
  let digits = mantissa.replace('.', '');
  let e = Number(exp);
  // A tie can only happen when the exact value has precision + 1 significant digits, the last a 5.
  const [tenth] = x.toExponential(precision).split('e');
  if (tenth.endsWith('5')) {
    const [exact, exactExp] = x.toExponential(99).split('e');
    const exactDigits = exact.replace('.', '');
    if (/^0*$/.test(exactDigits.slice(precision + 1))) {
      const truncated = exactDigits.slice(0, precision);
      if (Number(truncated.at(-1)) % 2 === 0) {
        digits = truncated;
        e = Number(exactExp);
      }
    }
  }
  return { digits, e };
}

/** Python's format(x, '.{precision}g'), e.g. '%.9g' of a probability: 0.598645568, 3.1e-13. */
export function formatG(x, precision = 9) {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const sign = x < 0 ? '-' : '';
  const { digits, e } = significant(Math.abs(x), precision);
  const trimmed = digits.replace(/0+$/, '') || '0';
  if (e < -4 || e >= precision) {
    const m = trimmed.length > 1 ? `${trimmed[0]}.${trimmed.slice(1)}` : trimmed;
    return `${sign}${m}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${trimmed}`;
  const whole = trimmed.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = trimmed.slice(e + 1);
  return fraction ? `${sign}${whole}.${fraction}` : `${sign}${whole}`;
}

/** Python's '{:,}' of an integer (a number or a bigint). */
export function thousands(n) {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** Python's '{:,.0f}' of a float. */
export function thousandsFixed(x) {
  return Number.isFinite(x) ? thousands(x.toFixed(0)) : floatRepr(x);
}

// What Python's str.isprintable() calls not printable: categories Other (Cc, Cf, Cs, Co, Cn) and
// Separator (Zs, Zl, Zp), the ASCII space excepted. repr() escapes them.
const NOT_PRINTABLE = /^[\p{C}\p{Z}]$/u;

function escape(code) {
  if (code <= 0xff) return `\\x${code.toString(16).padStart(2, '0')}`;
  if (code <= 0xffff) return `\\u${code.toString(16).padStart(4, '0')}`;
  return `\\U${code.toString(16).padStart(8, '0')}`;
}

/** Python's repr() of a str: single quotes unless the text holds ' and no ", escapes shown. */
export function strRepr(text) {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0);
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch !== ' ' && NOT_PRINTABLE.test(ch)) out += escape(code);
    else out += ch;
  }
  return quote + out + quote;
}

/** Python's repr() of a dict of str to str, e.g. {'fahrenheit': 'tensor(float)'}. */
export function dictRepr(object) {
  const items = Object.entries(object).map(([k, v]) => `${strRepr(k)}: ${strRepr(String(v))}`);
  return `{${items.join(', ')}}`;
}

/** Python's repr() of a list of shape dimensions: ['batch'], [3], [None]. */
export function shapeRepr(shape) {
  const dims = shape.map((d) =>
    typeof d === 'string' && d !== ''
      ? strRepr(d)
      : d === null || d === '' || d < 0
        ? 'None'
        : String(d),
  );
  return `[${dims.join(', ')}]`;
}
