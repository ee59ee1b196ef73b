/**
 * Exact sums of decimal text ("-12.3400", "922337203685477.5807") as
 * PostgreSQL's sum(numeric) gives them: BigInt digits at the largest scale
 * seen, never a JavaScript number (money and decimal(38) would lose digits).
 */
export class DecimalSum {
  private digits = 0n;
  private scale = 0;
  private seen = 0;

  /** Adds one value; throws on text that is not a plain decimal number (a corrupt snapshot, not a value to skip). */
  add(text: string): void {
    const m = /^([+-]?)(\d*)(?:\.(\d*))?$/.exec(text);
    if (!m || (m[2] === '' && (m[3] ?? '') === '')) throw new RangeError(`not a decimal number: ${JSON.stringify(text.slice(0, 40))}`);
    const fraction = m[3] ?? '';
    if (fraction.length > this.scale) {
      this.digits *= 10n ** BigInt(fraction.length - this.scale);
      this.scale = fraction.length;
    }
    const value = BigInt(`${m[2] || '0'}${fraction.padEnd(this.scale, '0')}`);
    this.digits += m[1] === '-' ? -value : value;
    this.seen++;
  }

  /** The sum as decimal text at the largest scale added; null when nothing was added (SQL's SUM of no rows). */
  text(): string | null {
    if (this.seen === 0) return null;
    const negative = this.digits < 0n;
    const abs = (negative ? -this.digits : this.digits).toString().padStart(this.scale + 1, '0');
    const whole = abs.slice(0, abs.length - this.scale);
    const fraction = abs.slice(abs.length - this.scale);
    return `${negative ? '-' : ''}${whole}${this.scale > 0 ? `.${fraction}` : ''}`;
  }
}
