/** Secret-looking names whose values must never reach Slack or logs. */
export const SECRET_NAME = /pass(word)?|pwd|secret|token|api[_-]?key|credential|private/i;

/** Replaces every given secret value in text by ***; values shorter than 4 chars are left, they would mangle text. */
export function scrub(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}
