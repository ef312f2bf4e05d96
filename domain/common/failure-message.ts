/**
 * Failure messages that keep saying where (issue 25): a job's message leads with what it is about (the file, and its
 * line when known, e.g. `a.csv line 3: the row does not have the header's 3 fields`), then the cause. Only the cause
 * is clipped, so the file survives however long the cause is (a ragged row's text, a binary file's bytes).
 *
 * The "where" is the text before the first ": ", when there is one within WHERE_LIMIT characters; a message without
 * one is all cause. The class name of the exception the Glue script raises for the failures it words itself
 * (`ValueError: …`, which Glue's ErrorMessage puts first) is not a where: it is dropped, so both engines' messages
 * read the same. Other exception names (Java's OutOfMemoryError, Spark's) say what happened and are kept.
 */
export const CAUSE_LIMIT = 200;
/** A file name (S3 keys are at most 1,024 bytes) and ` line <n>`: longer is not a where. */
const WHERE_LIMIT = 1100;
const SCRIPT_EXCEPTION = /^ValueError: /;

const clip = (text: string, limit: number): string =>
  text.length <= limit ? text : `${text.slice(0, Math.max(0, limit - 1))}…`;

/** The message with its where kept whole and its cause clipped to `limit` characters. */
export function failureMessage(text: string, limit = CAUSE_LIMIT): string {
  const message = text.trim().replace(SCRIPT_EXCEPTION, '');
  const colon = message.indexOf(': ');
  const where = colon > 0 && colon <= WHERE_LIMIT ? message.slice(0, colon) : '';
  if (!where || where.includes('\n')) return clip(message, limit);
  return `${where}: ${clip(message.slice(colon + 2), limit)}`;
}
