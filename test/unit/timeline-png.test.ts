import { inflateSync } from 'node:zlib';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { COLORS, timelineGeometry, timelineHeight, timelinePng, WIDTH } from '../../bot/report/timeline-png.js';
import { buildReport, timelineOf } from '../../runbook/report/index.js';
import { reportEvents, reportPlan, reportState } from '../support/report-fixture.js';
import { at, T0 } from '../support/runbook-factory.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
const rgb = (hex: string): number[] => [1, 3, 5].map((i) => parseInt(hex.slice(i, i + 2), 16));

// The window ends at minute 50, inside the night, so its line is drawn.
const events = reportEvents({ plan: reportPlan({ window: { start: T0, end: at(50) } }) });
const state = reportState(events);
const timeline = timelineOf(buildReport(state, events, { now: at(60) }).figures, at(60));
const bytes = timelinePng(timeline);
const decoded = PNG.sync.read(bytes);
const pixel = (x: number, y: number): number[] => {
  const i = (Math.round(y) * decoded.width + Math.round(x)) * 4;
  return [decoded.data[i] ?? -1, decoded.data[i + 1] ?? -1, decoded.data[i + 2] ?? -1];
};

describe('timeline PNG', () => {
  it('is a PNG of 1200 × (120 + 28 per step)', () => {
    expect(bytes.subarray(0, 8).equals(SIGNATURE)).toBe(true);
    expect(bytes.subarray(12, 16).toString('ascii')).toBe('IHDR');
    expect(bytes.readUInt32BE(16)).toBe(1200);
    expect(bytes.readUInt32BE(20)).toBe(120 + 28 * 4);
    expect([WIDTH, timelineHeight(4)]).toEqual([1200, 232]);
    expect([decoded.width, decoded.height]).toEqual([1200, 232]);
  });

  it('decodes: the IDAT stream inflates to one filter byte plus 3 bytes per pixel for every row', () => {
    const idat: Buffer[] = [];
    for (let off = 8; off < bytes.length; ) {
      const length = bytes.readUInt32BE(off);
      if (bytes.subarray(off + 4, off + 8).toString('ascii') === 'IDAT') idat.push(bytes.subarray(off + 8, off + 8 + length));
      off += 12 + length;
    }
    expect(inflateSync(Buffer.concat(idat)).length).toBe(232 * (1 + 1200 * 3));
  });

  it('draws the execution bar in the status colour, the wait hatched amber and the plan grey, where they happened', () => {
    const { x, rowTop } = timelineGeometry(timeline);
    const copyRow = 2;
    expect(pixel(x(32 * 60_000), rowTop(copyRow) + 18)).toEqual(rgb(COLORS.succeeded)); // copy ran 20 → 45 min
    expect([rgb(COLORS.wait), rgb(COLORS.waitHatch)]).toContainEqual(pixel(x(16 * 60_000), rowTop(copyRow) + 18)); // waited 12 → 20
    expect(pixel(x(20 * 60_000), rowTop(copyRow) + 8)).toEqual(rgb(COLORS.planned)); // planned 10 → 30
    expect(pixel(x(37 * 60_000), rowTop(copyRow) + 8)).toEqual(rgb(COLORS.background)); // past the planned slot
    expect(pixel(x(47 * 60_000), rowTop(copyRow) + 18)).toEqual(rgb(COLORS.background)); // copy had finished
  });

  it('marks the window end with a red line', () => {
    const { x, rowTop } = timelineGeometry(timeline);
    const column = [0, 1, 2, 3, 4, 5].map((dy) => pixel(x(50 * 60_000), rowTop(0) + dy));
    expect(column).toContainEqual(rgb(COLORS.failed));
  });

  it('writes text (step labels) in the label column', () => {
    let dark = 0;
    for (let y = 90; y < 118; y++) for (let x0 = 16; x0 < 200; x0++) if ((pixel(x0, y)[0] ?? 255) < 120) dark++;
    expect(dark).toBeGreaterThan(30);
  });
});
