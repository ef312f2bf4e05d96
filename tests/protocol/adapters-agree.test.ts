/**
 * One contract, three stores: random sequences of ledger and lease operations give the same answers on the
 * memory adapter (local runtime, state-machine tests), the DynamoDB adapter over dynalite in-process (the
 * interleaving model), and the DynamoDB adapter over the dynalite server through the AWS SDK (integration tests).
 */
import fc from 'fast-check';
import { DynamoArrivalLedger, DynamoRunLeases } from '../../adapters/aws/dynamo-state';
import { MemoryArrivalLedger, MemoryRunLeases } from '../../adapters/memory/state';
import type { ArrivalLedger, RunLeaseStore } from '../../domain/ports';
import { startDynamo, type LocalDynamo } from '../support/dynamo';
import { InProcessDynamo } from './in-process-dynamo';

let server: LocalDynamo;
beforeAll(async () => {
  server = await startDynamo();
});
afterAll(async () => {
  await server.stop();
});

type Op =
  | { t: 'record'; p: number; seq: number }
  | { t: 'claim'; run: number }
  | { t: 'return'; run: number; keep: number[] }
  | { t: 'forget'; run: number }
  | { t: 'acquire'; run: number; replacing: number | null; seconds: number }
  | { t: 'release'; run: number }
  | { t: 'tick'; seconds: number };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    t: fc.constant('record' as const),
    p: fc.integer({ min: 0, max: 3 }),
    seq: fc.integer({ min: 0, max: 4 }),
  }),
  fc.record({ t: fc.constant('claim' as const), run: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    t: fc.constant('return' as const),
    run: fc.integer({ min: 0, max: 2 }),
    keep: fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
  }),
  fc.record({ t: fc.constant('forget' as const), run: fc.integer({ min: 0, max: 2 }) }),
  fc.record({
    t: fc.constant('acquire' as const),
    run: fc.integer({ min: 0, max: 2 }),
    replacing: fc.option(fc.integer({ min: 0, max: 2 })),
    seconds: fc.constantFrom(60, 600),
  }),
  fc.record({ t: fc.constant('release' as const), run: fc.integer({ min: 0, max: 2 }) }),
  fc.record({ t: fc.constant('tick' as const), seconds: fc.constantFrom(30, 601) }),
);

interface Store {
  ledger: ArrivalLedger;
  leases: RunLeaseStore;
}

async function apply(store: Store, ops: Op[], clock: { ms: number }): Promise<unknown[]> {
  const out: unknown[] = [];
  const run = (i: number) => `arn:run-${i}`;
  for (const o of ops) {
    const now = new Date(clock.ms);
    if (o.t === 'record')
      out.push(
        await store.ledger.recordArrival({
          dataset: 'orders',
          partitionKey: `p${o.p}`,
          objectKey: `orders/p${o.p}/f.csv`,
          sequencer: String(o.seq),
          size: 1,
          arrivedAt: '',
        }),
      );
    else if (o.t === 'claim') out.push(await store.ledger.claimPending('orders', run(o.run), now));
    else if (o.t === 'return')
      out.push(
        await store.ledger.returnClaim(
          'orders',
          run(o.run),
          o.keep.map((p) => `p${p}`),
        ),
      );
    else if (o.t === 'forget') out.push(await store.ledger.forgetClaim('orders', run(o.run)));
    else if (o.t === 'acquire')
      out.push(
        await store.leases.acquire(
          'orders',
          run(o.run),
          now,
          o.seconds,
          o.replacing === null ? undefined : run(o.replacing),
        ),
      );
    else if (o.t === 'release') out.push(await store.leases.release('orders', run(o.run)));
    else clock.ms += o.seconds * 1000;
    out.push((await store.ledger.pendingSummary('orders'))?.partitions ?? 0);
    out.push((await store.ledger.claimOwners('orders')).sort());
    out.push((await store.leases.current('orders'))?.owner ?? null);
  }
  return out;
}

let tables = 0;
test('memory, in-process dynalite and the dynalite server answer every operation alike', async () => {
  const inProcess = new InProcessDynamo();
  await fc.assert(
    fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), async (ops) => {
      const table = `agree-${++tables}`;
      await inProcess.createTable(table);
      await server.createTable(table);
      const results: unknown[][] = [];
      for (const doc of [inProcess, server.doc]) {
        const clock = { ms: Date.parse('2024-03-01T10:00:00Z') };
        const store = {
          ledger: new DynamoArrivalLedger(doc as never, table, () => new Date(clock.ms)),
          leases: new DynamoRunLeases(doc as never, table),
        };
        results.push(await apply(store, ops, clock));
      }
      const clock = { ms: Date.parse('2024-03-01T10:00:00Z') };
      const memory = {
        ledger: new MemoryArrivalLedger({ now: () => new Date(clock.ms) }),
        leases: new MemoryRunLeases(),
      };
      results.push(await apply(memory, ops, clock));
      expect(results[0]).toEqual(results[1]);
      expect(results[2]).toEqual(results[0]);
    }),
    { seed: 20_241_110, numRuns: 15 },
  );
}, 600_000);
