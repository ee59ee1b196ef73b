import { createRequire } from 'node:module';
import { PNG } from 'pngjs';
import * as PImage from 'pureimage';
import type { Timeline, TimelineRow } from '../../runbook/report/index.js';
import { zonedClock, zonedStamp } from '../../runbook/time-zone.js';

/**
 * The night as a picture: one row per step on one time axis, the planned
 * slot as a thin grey bar, the actual time below it — approval wait hatched
 * amber, execution solid (green done, red failed, blue unfinished, grey
 * skipped). Size: WIDTH × (HEADER + ROW·steps + FOOTER) = 1200 × (120 + 28·steps).
 */
export const WIDTH = 1200;
export const ROW = 28;
const HEADER = 90;
const FOOTER = 30;
const LABEL_X = 16;
const CHART_X = 340;
const CHART_RIGHT = WIDTH - 30;

export const COLORS = {
  background: '#ffffff',
  text: '#1f2328',
  muted: '#656d76',
  grid: '#e6e8eb',
  planned: '#b4bcc8',
  wait: '#f2b544',
  waitHatch: '#c98a12',
  succeeded: '#2da44e',
  failed: '#cf222e',
  skipped: '#8c959f',
  running: '#0969da',
} as const;

export const timelineHeight = (steps: number): number => HEADER + ROW * steps + FOOTER;

const FONT = 'DejaVuSans';
let fontLoaded = false;

/** The font ships in an npm package, so rendering needs nothing from the machine. */
function loadFont(): void {
  if (fontLoaded) return;
  const path = createRequire(import.meta.url).resolve('dejavu-fonts-ttf/ttf/DejaVuSans.ttf');
  PImage.registerFont(path, FONT).loadSync();
  fontLoaded = true;
}

type Ctx = ReturnType<PImage.Bitmap['getContext']>;

const hex = (color: string): [number, number, number] => [1, 3, 5].map((i) => parseInt(color.slice(i, i + 2), 16)) as [number, number, number];

function rect(img: PImage.Bitmap, x0: number, y0: number, w: number, h: number, color: string, hatch?: string): void {
  const [r, g, b] = hex(color);
  const stripe = hatch ? hex(hatch) : null;
  const x1 = Math.min(img.width, Math.round(x0 + Math.max(1, w)));
  const y1 = Math.min(img.height, Math.round(y0 + h));
  for (let y = Math.max(0, Math.round(y0)); y < y1; y++) {
    for (let x = Math.max(0, Math.round(x0)); x < x1; x++) {
      const [pr, pg, pb] = stripe && (x + y) % 6 < 2 ? stripe : [r, g, b];
      const i = (y * img.width + x) * 4;
      img.data[i] = pr;
      img.data[i + 1] = pg;
      img.data[i + 2] = pb;
      img.data[i + 3] = 255;
    }
  }
}

function text(ctx: Ctx, value: string, x: number, y: number, size: number, color: string, maxWidth?: number): void {
  ctx.font = `${size}px ${FONT}`;
  ctx.fillStyle = color;
  let shown = value;
  if (maxWidth !== undefined) {
    while (shown.length > 1 && ctx.measureText(shown).width > maxWidth) shown = shown.slice(0, -2) + '…';
  }
  ctx.fillText(shown, x, y);
}

/** A tick every 1, 2, 5, 10, 15, 30 minutes or 1, 2, 4 hours: at most ~10 ticks. */
function tickMs(spanMs: number): number {
  const steps = [1, 2, 5, 10, 15, 30, 60, 120, 240, 480].map((m) => m * 60_000);
  return steps.find((s) => spanMs / s <= 10) ?? steps[steps.length - 1] ?? 60_000;
}



function statusColor(status: string): string {
  if (status === 'succeeded') return COLORS.succeeded;
  if (status === 'failed' || status === 'rejected') return COLORS.failed;
  if (status === 'skipped') return COLORS.skipped;
  return COLORS.running;
}

function drawRow(img: PImage.Bitmap, ctx: Ctx, row: TimelineRow, y: number, x: (ms: number) => number): void {
  text(ctx, row.label, LABEL_X, y + 19, 13, COLORS.text, CHART_X - LABEL_X - 12);
  if (row.planned) rect(img, x(row.planned.start), y + 5, x(row.planned.end) - x(row.planned.start), 6, COLORS.planned);
  if (row.wait && row.wait.end > row.wait.start) rect(img, x(row.wait.start), y + 13, x(row.wait.end) - x(row.wait.start), 11, COLORS.wait, COLORS.waitHatch);
  if (row.execution && row.execution.end > row.execution.start) rect(img, x(row.execution.start), y + 13, x(row.execution.end) - x(row.execution.start), 11, statusColor(row.status));
}

function drawLegend(img: PImage.Bitmap, ctx: Ctx, y: number, withWindow: boolean): void {
  const items: Array<[string, string, string?]> = [
    ['planned', COLORS.planned],
    ['waiting for approval', COLORS.wait, COLORS.waitHatch],
    ['executed', COLORS.succeeded],
    ['failed', COLORS.failed],
    ['skipped', COLORS.skipped],
    ['unfinished', COLORS.running],
  ];
  if (withWindow) items.push(['window end', COLORS.failed]);
  let x = LABEL_X;
  for (const [label, color, hatch] of items) {
    rect(img, x, y - 10, 18, 10, color, hatch);
    text(ctx, label, x + 24, y, 12, COLORS.muted);
    ctx.font = `12px ${FONT}`;
    x += 24 + ctx.measureText(label).width + 24;
  }
}

/** Where things land: x of a time (ms from the start) and the top of row i. Exported for tests that probe pixels. */
export function timelineGeometry(timeline: Timeline): { x: (ms: number) => number; rowTop: (i: number) => number; span: number } {
  // 4 % headroom so the last bar's end and the window line stay visible.
  const span = Math.max(timeline.spanMs, 60_000) * 1.04;
  return { span, x: (ms) => CHART_X + (Math.min(ms, span) / span) * (CHART_RIGHT - CHART_X), rowTop: (i) => HEADER + i * ROW };
}

/** Rows drawn at most: 3,000 rows would be a 1200 × 84,000 image (400 MB of pixels); the report's tables list every step. */
export const TIMELINE_MAX_ROWS = 200;

/** The first TIMELINE_MAX_ROWS rows, the title saying how many were left out. */
export function boundedTimeline(timeline: Timeline): Timeline {
  if (timeline.rows.length <= TIMELINE_MAX_ROWS) return timeline;
  const title = `${timeline.title} — first ${TIMELINE_MAX_ROWS} of ${timeline.rows.length.toLocaleString('en-US')} steps (the report lists them all)`;
  return { ...timeline, title, rows: timeline.rows.slice(0, TIMELINE_MAX_ROWS) };
}

/** Renders the timeline as PNG bytes, WIDTH × timelineHeight(rows), at most TIMELINE_MAX_ROWS rows. */
export function timelinePng(input: Timeline): Buffer {
  const timeline = boundedTimeline(input);
  loadFont();
  const height = timelineHeight(timeline.rows.length);
  const img = PImage.make(WIDTH, height);
  const ctx = img.getContext('2d');
  rect(img, 0, 0, WIDTH, height, COLORS.background);
  const { span, x, rowTop } = timelineGeometry(timeline);

  text(ctx, timeline.title, LABEL_X, 28, 18, COLORS.text, WIDTH - 2 * LABEL_X);
  text(ctx, `Started ${zonedStamp(timeline.startedAt, timeline.timeZone).replace(/:\d\d (?=\S+$)/, ' ')} · planned (grey) vs actual per step`, LABEL_X, 50, 12, COLORS.muted);
  const bottom = HEADER + ROW * timeline.rows.length;
  const tick = tickMs(span);
  for (let t = 0; t <= span; t += tick) {
    rect(img, x(t), HEADER - 8, 1, bottom - HEADER + 8, COLORS.grid);
    text(ctx, zonedClock(timeline.startedAt + t, timeline.timeZone), x(t) - 16, HEADER - 14, 11, COLORS.muted);
  }
  rect(img, CHART_X, HEADER - 2, CHART_RIGHT - CHART_X, 1, COLORS.muted);
  const windowEnd = timeline.windowEndMs;
  const showWindow = windowEnd !== null && windowEnd > 0 && windowEnd <= span;
  if (showWindow) {
    for (let y = HEADER - 8; y < bottom; y += 6) rect(img, x(windowEnd) - 1, y, 2, 4, COLORS.failed);
    text(ctx, 'window end', Math.min(x(windowEnd) - 30, CHART_RIGHT - 70), HEADER - 28, 11, COLORS.failed);
  }
  timeline.rows.forEach((row, i) => {
    const y = rowTop(i);
    if (i % 2 === 1) rect(img, 0, y, CHART_X - 4, ROW, '#f6f8fa');
    drawRow(img, ctx, row, y, x);
  });
  drawLegend(img, ctx, bottom + 20, showWindow);

  const png = new PNG({ width: WIDTH, height });
  png.data = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength);
  return PNG.sync.write(png, { colorType: 2 });
}
