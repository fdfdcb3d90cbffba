// Python-style formatting of hyperparameters, so that module reprs read like
// PyTorch's (`Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))`).

/** A value marked to print as a Python float (1 → '1.0', 1e-5 → '1e-05'). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Marks a number to print as a Python float. */
export const pyFloat = (v: number): PyFloat => new PyFloat(v);

function floatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // Shortest round-trip digits and decimal exponent, then Python's layout:
  // scientific when the exponent is < -4 or >= 16.
  const [mant, expPart] = x.toExponential().split('e');
  const exp = Number(expPart);
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  let body: string;
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    body = `${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (exp < 0) {
    body = `0.${'0'.repeat(-exp - 1)}${digits}`;
  } else if (digits.length <= exp + 1) {
    body = `${digits}${'0'.repeat(exp + 1 - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, exp + 1)}.${digits.slice(exp + 1)}`;
  }
  return neg ? `-${body}` : body;
}

/** repr() of a hyperparameter: numbers, booleans, null, strings, tuples. */
export function pyRepr(v: unknown): string {
  if (v === null || v === undefined) return 'None';
  if (v instanceof PyFloat) return floatRepr(v.value);
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : floatRepr(v);
  if (typeof v === 'string') return v;
  if (Array.isArray(v)) return v.length === 1 ? `(${pyRepr(v[0])},)` : `(${v.map(pyRepr).join(', ')})`;
  return String(v);
}

/** Python's repr of a str, for values printed quoted (mode='nearest'). */
export function pyStr(s: string): string {
  return `'${s}'`;
}
