/** The raw table's name (kept apart from schema-drift.ts so the stack definition does not load hyparquet). */
/**
 * The table a Glue crawler creates for an S3 target: named after the target's last folder, lower-cased, other
 * characters than letters, digits and underscores replaced by underscores
 * (https://docs.aws.amazon.com/glue/latest/dg/define-crawler-choose-data-sources.html: "the name of the table is
 * based on the Amazon S3 prefix or folder name").
 */
export function rawTableName(prefix: string): string {
  const last = prefix.split('/').filter(Boolean).pop() ?? prefix;
  return last.toLowerCase().replace(/[^a-z0-9_]/g, '_');
}
