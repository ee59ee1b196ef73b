import { CutoverError } from '../../../runbook/errors.js';

/**
 * A small seeded pseudo-random generator (mulberry32) with the helpers the
 * sample needs. The sample must be the same bytes on every machine and every
 * run, so nothing here reads the clock or Math.random.
 */
export class Prng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new CutoverError('sample.inconsistent', 'pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** `digits` random decimal digits as text (leading zeros kept). */
  digits(count: number): string {
    let out = '';
    for (let i = 0; i < count; i++) out += String(this.int(0, 9));
    return out;
  }

  /** Eight random bytes as 16 upper-case hex digits. */
  hex64(): string {
    return (this.int(0, 0xffffffff).toString(16).padStart(8, '0') + this.int(0, 0xffffffff).toString(16).padStart(8, '0')).toUpperCase();
  }

  /** A version-4-shaped GUID in SQL Server's upper-case text form. */
  guid(): string {
    const h = this.hex64() + this.hex64();
    const variant = '89AB'[this.int(0, 3)] as string;
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }
}
