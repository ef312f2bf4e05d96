/**
 * `npm run bench`: 1,000,000 CSV rows over 30 partitions, (a) through sluice's local pipeline from landing to
 * queryable, (b) DuckDB converting the same files in one statement (the engine's own limit). Debounce quiet
 * period is 0 here; the figures are one run on this machine, so read the ratio, not the seconds.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { LocalEngine, quoteString } from '../../adapters/local/duckdb';
import { LocalRuntime } from '../../adapters/local/runtime';

const ROWS = 1_000_000;
const PARTITIONS = 30;

function generate(rawDir: string): void {
  const per = Math.ceil(ROWS / PARTITIONS);
  for (let p = 0; p < PARTITIONS; p++) {
    const rows = p < PARTITIONS - 1 ? per : ROWS - per * (PARTITIONS - 1);
    const day = String(p + 1).padStart(2, '0');
    const dir = join(rawDir, `orders/year=2024/month=01/day=${day}`);
    mkdirSync(dir, { recursive: true });
    const lines = ['order_id,customer,amount,ordered_at'];
    for (let i = 0; i < rows; i++) {
      const id = p * per + i;
      lines.push(
        `${id},cust-${id % 997},${((id * 7919) % 100000) / 100},2024-01-${day} ${String(i % 24).padStart(2, '0')}:00:00`,
      );
    }
    writeFileSync(join(dir, 'data.csv'), lines.join('\n') + '\n');
  }
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'sluice-bench-'));
  const lakeDir = join(root, 'lake');
  generate(join(lakeDir, 'raw'));
  // The local stage config with the debounce quiet period set to 0 for the bench.
  const local = JSON.parse(readFileSync(join(__dirname, '..', '..', 'config', 'local.json'), 'utf8')) as {
    datasets: Array<{ debounce: { quietSeconds: number } }>;
  };
  for (const d of local.datasets) d.debounce.quietSeconds = 0;
  const config = join(root, 'bench-config.json');
  writeFileSync(config, JSON.stringify(local));
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

  // (a) sluice: events -> intake -> debounce (quiet 0) -> crawl -> 30 job runs -> Athena registration.
  const phases = new Map<string, number>();
  let last = performance.now();
  let lastState = 'landing';
  const runtime = await LocalRuntime.open({
    lakeDir,
    configFile: config,
    quietMs: 0,
    pollMs: 5,
    onEvent: (_arn, event) => {
      if (event.type === 'StateEntered' && event.index === undefined && event.state) {
        const now = performance.now();
        phases.set(lastState, (phases.get(lastState) ?? 0) + now - last);
        last = now;
        lastState = event.state.name;
      }
    },
  });
  const t0 = performance.now();
  last = t0;
  for (let p = 0; p < PARTITIONS; p++)
    await runtime.deliver(
      runtime.lake.eventFor(`orders/year=2024/month=01/day=${String(p + 1).padStart(2, '0')}/data.csv`),
    );
  await runtime.idle();
  const [count] = await runtime.queries.query('SELECT count(*) AS n FROM orders');
  const sluiceSeconds = (performance.now() - t0) / 1000;
  const jobSeconds = runtime.jobs
    .allStats()
    .map((j) => j.stats?.seconds ?? 0)
    .sort((a, b) => a - b);
  phases.set(lastState, (phases.get(lastState) ?? 0) + performance.now() - last);
  runtime.close();
  if (Number(count?.n) !== ROWS) throw new Error(`expected ${ROWS} rows queryable, got ${String(count?.n)}`);

  // (b) DuckDB alone: the same conversion in one statement.
  const engine = await LocalEngine.open();
  const out = join(root, 'direct');
  const t1 = performance.now();
  await engine.run(
    `COPY (SELECT TRY_CAST(order_id AS BIGINT) AS order_id, customer AS customer_id, TRY_CAST(amount AS DECIMAL(12,2)) AS amount, TRY_CAST(ordered_at AS TIMESTAMP) AS ordered_at, year, month, day
       FROM read_csv(${quoteString(join(lakeDir, 'raw/orders/*/*/*/*.csv'))}, header = true, all_varchar = true, hive_partitioning = true))
     TO ${quoteString(out)} (FORMAT parquet, PARTITION_BY (year, month, day))`,
  );
  const duckSeconds = (performance.now() - t1) / 1000;
  engine.close();
  clearInterval(sampler);

  console.log(
    `sluice local pipeline bench: ${ROWS.toLocaleString()} CSV rows, ${PARTITIONS} partitions, debounce quiet period 0 (bench setting), poll waits 5 ms`,
  );
  console.log(`  (a) sluice, landing -> queryable:      ${sluiceSeconds.toFixed(2)} s`);
  console.log(`  (b) DuckDB, one COPY statement:        ${duckSeconds.toFixed(2)} s`);
  console.log(`  ratio (a)/(b):                         ${(sluiceSeconds / duckSeconds).toFixed(2)}`);
  console.log(`  peak RSS (both, one process):          ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  console.log(
    `  job runs: ${jobSeconds.length}, conversion median ${(jobSeconds[Math.floor(jobSeconds.length / 2)]! * 1000).toFixed(0)} ms, sum ${jobSeconds.reduce((a, b) => a + b, 0).toFixed(2)} s`,
  );
  console.log('  time per top-level state (ms), sluice:');
  for (const [state, ms] of phases) console.log(`    ${state.padEnd(40)} ${ms.toFixed(0).padStart(7)}`);
  rmSync(root, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
