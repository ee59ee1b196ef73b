/**
 * A statement as it may be shown in Slack and kept in the run's events: its
 * shape, not its values. String literals (and dollar-quoted bodies) are
 * masked, since a WHERE clause may carry personal data and an ALTER LOGIN a
 * password; whitespace is collapsed and the text clipped.
 */
/** Whitespace collapses and literals shrink, so this much text always covers what the clipped result shows. */
const HEAD_CHARS = 16_384;

export function statementText(sql: string | null | undefined, max = 160): string {
  if (!sql) return '';
  // SQL Server hands over a session's whole batch (up to 2 GB); only its head can be shown, so only the head is scanned.
  const head = sql.length > HEAD_CHARS ? sql.slice(0, HEAD_CHARS) : sql;
  const masked = head
    // A dollar quote cut off (by the server or by the head) is masked to the end, like a cut-off literal.
    .replace(/\$([A-Za-z_]\w*)?\$[\s\S]*?(?:\$\1\$|$)/g, '$…$')
    // A literal cut off by the server's own truncation has no closing quote: it is masked to the end.
    .replace(/'(?:[^']|'')*(?:'|$)/g, (literal) => (literal.length > 1 && literal.endsWith("'") ? "'…'" : "'…"))
    .replace(/\s+/g, ' ')
    .trim();
  return masked.length <= max ? masked : `${masked.slice(0, max - 1)}…`;
}
