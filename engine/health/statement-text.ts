/**
 * A statement as it may be shown in Slack and kept in the run's events: its
 * shape, not its values. String literals (and dollar-quoted bodies) are
 * masked, since a WHERE clause may carry personal data and an ALTER LOGIN a
 * password; whitespace is collapsed and the text clipped.
 */
export function statementText(sql: string | null | undefined, max = 160): string {
  if (!sql) return '';
  const masked = sql
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?\$\1\$/g, '$…$')
    // A literal cut off by the server's own truncation has no closing quote: it is masked to the end.
    .replace(/'(?:[^']|'')*(?:'|$)/g, (literal) => (literal.length > 1 && literal.endsWith("'") ? "'…'" : "'…"))
    .replace(/\s+/g, ' ')
    .trim();
  return masked.length <= max ? masked : `${masked.slice(0, max - 1)}…`;
}
