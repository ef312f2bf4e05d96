/**
 * A 1,000-partition backfill in one execution, measured from the local interpreter's event log against the
 * Step Functions Standard limits: 25,000 history events per execution, 256 KiB per state payload.
 * The Distributed Map puts each partition's polling in its own child execution, so the parent stays small.
 */
import { parseConfig } from '../../domain/config';
import { pollsForDuration } from '../../domain/polling';
import type { LocalEvent } from '../../adapters/local/state-machine';
import { fakeWorld, ORDERS_CONFIG } from '../support/fakes';
import { runManual } from '../support/machine';

const HISTORY_LIMIT = 25_000;
const PAYLOAD_LIMIT = 256 * 1024;

/** History events AWS records per state entered (Task: entered, scheduled, started, succeeded, exited). */
const EVENTS_PER_STATE: Record<string, number> = { Task: 5, Map: 4, Wait: 2, Choice: 2, Pass: 2, Succeed: 2, Fail: 2 };

function historyEvents(events: LocalEvent[]): number {
  const entered = events.filter((e) => e.type === 'StateEntered');
  const retries = events.filter((e) => e.type === 'StateRetried').length;
  return 2 + entered.reduce((sum, e) => sum + (EVENTS_PER_STATE[e.state?.type ?? ''] ?? 2), 0) + 3 * retries;
}

const bytes = (value: unknown): number => Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');

test('a 1,000-partition backfill of 1-hour jobs stays within the history and payload limits', async () => {
  const document = structuredClone(ORDERS_CONFIG);
  const orders = document.datasets[0]!;
  Object.assign(orders, { fanOut: { maxConcurrency: 100 }, job: { maxConcurrentRuns: 100 } });
  const world = fakeWorld(parseConfig(document));
  const policy = world.deps.config.datasets[0]!.polling;
  const pollsPerHour = pollsForDuration(3600, policy);
  world.jobs.script = () => ({ pollsToFinish: pollsPerHour - 1, finalState: 'SUCCEEDED' });

  const partitions = Array.from({ length: 1000 }, (_, i) => {
    const date = new Date(Date.UTC(2021, 0, 1) + i * 86_400_000);
    return {
      year: String(date.getUTCFullYear()),
      month: String(date.getUTCMonth() + 1).padStart(2, '0'),
      day: String(date.getUTCDate()).padStart(2, '0'),
    };
  });
  const result = await runManual(world, { dataset: 'orders', partitions, skipCrawler: false });
  expect(result.status).toBe('SUCCEEDED');
  expect(world.jobs.runs).toHaveLength(1000);

  const parent = result.events.filter((e) => e.index === undefined);
  const children = new Map<number, LocalEvent[]>();
  for (const e of result.events)
    if (e.index !== undefined && e.type.startsWith('State'))
      children.set(e.index, [...(children.get(e.index) ?? []), e]);
  const parentHistory = historyEvents(parent);
  const childHistories = [...children.values()].map(historyEvents);
  const max = (values: number[]): number => values.reduce((a, b) => Math.max(a, b), 0);
  const childTransitions = [...children.values()].map(
    (events) => events.filter((e) => e.type === 'StateEntered').length,
  );
  const largestPayload = result.events.reduce(
    (max, e) => Math.max(max, bytes(e.state?.input), bytes(e.state?.output)),
    0,
  );

  console.log(
    [
      `1,000 partitions, 1-hour jobs, polling ${JSON.stringify(policy)}:`,
      `  polls per 1-hour job:            ${pollsPerHour}`,
      `  state transitions per partition: ${max(childTransitions)}`,
      `  history events, parent:          ${parentHistory} (limit ${HISTORY_LIMIT})`,
      `  history events, largest child:   ${max(childHistories)} (limit ${HISTORY_LIMIT})`,
      `  largest state payload:           ${largestPayload} bytes (limit ${PAYLOAD_LIMIT})`,
    ].join('\n'),
  );
  expect(parentHistory).toBeLessThan(HISTORY_LIMIT);
  expect(max(childHistories)).toBeLessThan(HISTORY_LIMIT);
  expect(largestPayload).toBeLessThan(PAYLOAD_LIMIT);
  expect(pollsPerHour).toBeLessThan(60);
}, 120_000);
