/**
 * Execution names: the config check proves a dataset's longest name fits (config.ts), and the run protocol names
 * every execution it starts with it (runs/protocol.ts), so the rule lives below both.
 */
export function executionNameFor(dataset: string, now: Date, trigger: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:.TZ]/g, '')
    .slice(0, 17);
  const random = Math.random().toString(36).slice(2, 8);
  // Execution names: up to 80 chars of [A-Za-z0-9-_].
  return `${dataset.replace(/_/g, '-').slice(0, 40)}-${trigger.slice(0, 9)}-${stamp}-${random}`;
}
