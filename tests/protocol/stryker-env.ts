/**
 * Loaded by stryker.config.mjs only (`npm run mutate`): the DynamoDB-backed protocol tests run on the in-memory
 * DynamoDB (adapters/memory/dynamo.ts) instead of moto. moto takes a second or more per transaction-heavy test and
 * the mutant runs would not end; the in-memory store is held equal to moto by tests/protocol/adapters-agree.test.ts
 * (which `npm test` runs), so a mutant a test kills here it would kill on moto too.
 */
import type { LocalDynamo } from '../support/dynamo';

process.env.SLUICE_MUTATION_RUN = '1';
process.env.SLUICE_PROTOCOL_RUNS ??= '12';

jest.mock('../support/dynamo', () => {
  const actual = jest.requireActual<typeof import('../support/dynamo')>('../support/dynamo');
  const { MemoryDynamo } =
    jest.requireActual<typeof import('../../adapters/memory/dynamo')>('../../adapters/memory/dynamo');
  return {
    ...actual,
    startDynamo: async (): Promise<LocalDynamo> => {
      const store = new MemoryDynamo();
      return {
        doc: store.doc as unknown as LocalDynamo['doc'],
        client: store.doc as unknown as LocalDynamo['client'],
        endpoint: 'memory:',
        createTable: async (name: string) => store.createTable(name),
        stop: async () => {},
      };
    },
  };
});
