/** What the local-runtime tests land: config/local.json without its quiet period, and one-row orders files. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/** config/local.json with every dataset's quiet period at 0 (a burst settles at once), written into `dir`. */
export function configWithoutQuietPeriod(dir: string): string {
  const config = JSON.parse(readFileSync(join(ROOT, 'config', 'local.json'), 'utf8')) as {
    datasets: Array<{ debounce: { quietSeconds: number } }>;
  };
  for (const d of config.datasets) d.debounce.quietSeconds = 0;
  const file = join(dir, 'config.json');
  writeFileSync(file, JSON.stringify(config));
  return file;
}

/** The raw key of January `day`'s orders file. */
export const ordersKey = (day: number) => `orders/year=2024/month=01/day=${String(day).padStart(2, '0')}/part.csv`;

/** One valid order for January `day`. */
export const ordersBody = (day: number) =>
  `order_id,customer,amount,ordered_at\n${day},c${day},1.50,2024-01-${String(day).padStart(2, '0')} 10:00:00\n`;
