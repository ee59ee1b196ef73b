/** Digits per limb: a limb is below 10^9 < 2^30, so 2^22 of them add exactly in a double (< 2^53) before a carry. */
const LIMB_DIGITS = 9;
const ADDS_PER_CARRY = 2 ** 22;
/** A value of at most 15 digits is below 2^50; the running sum of such values is carried before it reaches 2^52. */
const SHORT_DIGITS = 15;
const SHORT_LIMIT = 2 ** 52;
const POWERS = Array.from({ length: LIMB_DIGITS }, (_, i) => 10 ** i);

/**
 * Exact sums of decimal text ("-12.3400", "922337203685477.5807") as
 * PostgreSQL's sum(numeric) gives them: digits at the largest scale seen,
 * never rounded through a float. Values are cut into 9-digit limbs summed as
 * JavaScript integers (exact well below 2^53) and carried into a BigInt every
 * 2^22 values, so a BigInt is not built for every row.
 */
export class DecimalSum {
  private digits = 0n;
  private short = 0;
  private limbs: number[] = [];
  private pending = 0;
  private scale = 0;
  private seen = 0;

  /** Adds one value; throws on text that is not a plain decimal number (a corrupt snapshot, not a value to skip). */
  add(text: string): void {
    // The common case, read in one pass without building strings: [-+]digits[.digits], 15 digits at most once scaled.
    let i = text.charCodeAt(0) === 45 || text.charCodeAt(0) === 43 ? 1 : 0;
    const negative = i === 1 && text.charCodeAt(0) === 45;
    let value = 0;
    let digits = 0;
    let fraction = -1;
    for (; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 46 && fraction < 0) fraction = 0;
      else if (c >= 48 && c <= 57) {
        value = value * 10 + (c - 48);
        digits++;
        if (fraction >= 0) fraction++;
      } else throw new RangeError(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
    }
    if (digits === 0) throw new RangeError(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
    const scale = Math.max(fraction, 0);
    if (scale > this.scale) this.rescale(scale);
    this.seen++;
    if (digits + this.scale - scale <= SHORT_DIGITS) {
      this.short += (negative ? -value : value) * 10 ** (this.scale - scale);
      if (Math.abs(this.short) >= SHORT_LIMIT) this.carry();
      return;
    }
    // Longer: each digit into its 9-digit limb, counted from the right once scaled (pad zeros shift every digit left).
    const sign = negative ? -1 : 1;
    let position = digits - 1 + (this.scale - scale);
    for (let j = 0; j < text.length; j++) {
      const c = text.charCodeAt(j);
      if (c < 48 || c > 57) continue;
      const k = Math.floor(position / LIMB_DIGITS);
      this.limbs[k] = (this.limbs[k] ?? 0) + sign * (c - 48) * (POWERS[position % LIMB_DIGITS] ?? 1);
      position--;
    }
    if (++this.pending >= ADDS_PER_CARRY) this.carry();
  }

  /** The sum as decimal text at the largest scale added; null when nothing was added (SQL's SUM of no rows). */
  text(): string | null {
    if (this.seen === 0) return null;
    this.carry();
    const negative = this.digits < 0n;
    const abs = (negative ? -this.digits : this.digits).toString().padStart(this.scale + 1, '0');
    const whole = abs.slice(0, abs.length - this.scale);
    const fraction = abs.slice(abs.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale > 0 ? `.${fraction}` : ''}`;
  }

  private carry(): void {
    this.digits += BigInt(this.short);
    this.short = 0;
    this.limbs.forEach((limb, k) => {
      this.digits += BigInt(limb) * 10n ** BigInt(k * LIMB_DIGITS);
    });
    this.limbs = [];
    this.pending = 0;
  }

  private rescale(scale: number): void {
    this.carry();
    this.digits *= 10n ** BigInt(scale - this.scale);
    this.scale = scale;
  }
}
