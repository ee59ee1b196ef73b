import { z } from 'zod';

/** Buttons of the App Home tab; each opens a modal (the modal decides nothing until it is submitted). */
export const HOME_START = 'home.start';
export const HOME_ABORT = 'home.abort';
export const HOME_ROLLBACK = 'home.rollback';

/** What a Home button carries: the run it is about ('' for Start). */
const schema = z.object({ r: z.string().max(200) }).strict();

export const encodeHomeValue = (v: { runId: string }): string => JSON.stringify({ r: v.runId });

export function decodeHomeValue(raw: string | undefined): { runId: string } | null {
  try {
    const parsed = schema.safeParse(JSON.parse(raw ?? ''));
    return parsed.success ? { runId: parsed.data.r } : null;
  } catch {
    return null;
  }
}
