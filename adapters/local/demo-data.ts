/**
 * Deterministic sample data for `npm start`: two datasets, several partitions, a few thousand rows, one file
 * with rows that cannot be cast and one file outside the partition layout.
 */
export interface SampleFile {
  key: string;
  body: string;
}

export const ORDER_DAYS = ['01', '02', '03', '04'];
export const ORDERS_PER_FILE = 500;
export const BROKEN_ROWS = { total: 10, bad: 3 };
export const CLICK_DAYS = ['2024-01-01', '2024-01-02', '2024-01-03'];
export const CLICKS_PER_DAY = 400;

function orderRows(day: string, file: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => {
    const id = Number(day) * 100_000 + file * 1000 + i;
    const amount = ((id * 7919) % 50_000) / 100;
    const hour = String(i % 24).padStart(2, '0');
    return `${id},cust-${id % 97},${amount.toFixed(2)},2024-01-${day} ${hour}:15:00`;
  });
}

export function sampleFiles(): SampleFile[] {
  const files: SampleFile[] = [];
  const header = 'order_id,customer,amount,ordered_at';
  for (const day of ORDER_DAYS)
    for (const file of [1, 2])
      files.push({
        key: `orders/year=2024/month=01/day=${day}/orders-${file}.csv`,
        body: [header, ...orderRows(day, file, ORDERS_PER_FILE)].join('\n') + '\n',
      });
  const broken = orderRows('03', 9, BROKEN_ROWS.total);
  broken[1] = '9001,cust-1,twelve euros,2024-01-03 10:00:00';
  broken[4] = 'not-a-number,cust-2,1.00,2024-01-03 10:00:00';
  broken[7] = '9003,cust-3,2.50,yesterday';
  files.push({
    key: 'orders/year=2024/month=01/day=03/late export (fixed).csv',
    body: [header, ...broken].join('\n') + '\n',
  });
  files.push({ key: 'orders/2024-01-05-misplaced.csv', body: [header, ...orderRows('05', 1, 5)].join('\n') + '\n' });
  CLICK_DAYS.forEach((dt, d) => {
    const lines = Array.from({ length: CLICKS_PER_DAY }, (_, i) =>
      JSON.stringify({ user: `u${(i * 31 + d) % 50}`, page: `/p/${i % 12}`, ms: 100 + ((i * 37) % 900) }),
    );
    files.push({ key: `events/clicks/${dt}/clicks.json`, body: lines.join('\n') + '\n' });
  });
  return files;
}

export const SAMPLE_QUERY =
  'SELECT year, month, day, count(*) AS orders, round(sum(amount), 2) AS revenue FROM orders GROUP BY ALL ORDER BY ALL';
