import { StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import {
  documentedShapeProblems,
  fillTemplate,
  interpreterChildRunner,
  readPath,
  runDistributedMap,
  swapDistributedMaps,
  type DistributedMapState,
} from '../../adapters/local/distributed-map';
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import { runArtifacts } from '../../domain/common';
import { summarizeMapRun } from '../../domain/steps/map-results';
import { writePartitionList } from '../../domain/inputs';
import { figureLine, largestPayload, transitions } from '../support/limits-figures';

const SM = 'arn:aws:states:eu-west-1:123456789012:stateMachine:toy';
const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:toy:run-1';
const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:toy';

/** A toy flow in the shape of sluice's: prepare → Distributed Map over an S3 list → summarize. */
function toyDefinition(mapExtras: Record<string, unknown> = {}) {
  return {
    StartAt: 'Prepare',
    States: {
      Prepare: { Type: 'Task', Resource: LAMBDA, ResultPath: '$.debounce', Next: 'Process each partition' },
      'Process each partition': {
        Type: 'Map',
        ItemReader: {
          Resource: 'arn:aws:states:::s3:getObject',
          ReaderConfig: { InputType: 'JSON' },
          Parameters: { 'Bucket.$': '$.debounce.items.bucket', 'Key.$': '$.debounce.items.key' },
        },
        ItemSelector: { 'dataset.$': '$.dataset', 'partition.$': '$$.Map.Item.Value' },
        ItemProcessor: {
          ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
          StartAt: 'Start the job run',
          States: {
            'Start the job run': {
              Type: 'Task',
              Resource: LAMBDA,
              Retry: [{ ErrorEquals: ['AwsThrottledError'], MaxAttempts: 2 }],
              Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Report the partition as failed' }],
              ResultPath: '$.job',
              Next: 'Report the partition result',
            },
            'Report the partition result': { Type: 'Pass', InputPath: '$.job', End: true },
            'Report the partition as failed': {
              Type: 'Pass',
              Parameters: { ok: false, state: 'ERROR', 'message.$': '$.failure.Error' },
              End: true,
            },
          },
        },
        ResultWriter: {
          Resource: 'arn:aws:states:::s3:putObject',
          Parameters: { 'Bucket.$': '$.debounce.items.bucket', 'Prefix.$': '$.resultsPrefix' },
        },
        MaxConcurrency: 4,
        Label: 'Partitions',
        ResultPath: '$.mapRun',
        Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
        Next: 'Done',
        ...mapExtras,
      },
      Done: { Type: 'Succeed' },
      Failed: { Type: 'Fail', Error: 'MapFailed' },
    },
  };
}

async function runToy(
  count: number,
  failDays: Set<string>,
  mapExtras: Record<string, unknown> = {},
  throwInsteadOfCatch = false,
) {
  const store = new MemoryArtifactStore('art');
  const partitions = Array.from({ length: count }, (_, i) => ({ n: String(i) }));
  const swapped = swapDistributedMaps(toyDefinition(mapExtras), () => LAMBDA);
  const map = swapped.maps['Process each partition'] as DistributedMapState;
  const starts: string[] = [];
  const handlers = {
    Prepare: async () => ({ items: await writePartitionList(store, ARN, partitions) }),
    'Start the job run': async (input: unknown) => {
      const { partition } = input as { partition: { n: string } };
      starts.push(partition.n);
      if (failDays.has(partition.n)) {
        if (throwInsteadOfCatch) throw Object.assign(new Error('boom'), { name: 'Lambda.Unknown' });
        throw Object.assign(new Error('job failed'), { name: 'JobRunFailedError' });
      }
      return { ok: true, state: 'SUCCEEDED' };
    },
  } as Record<string, (input: unknown) => Promise<unknown>>;
  const childEvents: string[] = [];
  const childOverrides = {
    taskResourceLocalHandlers: handlers as never,
    retryIntervalOverrides: { 'Start the job run': 0 },
  };
  if (throwInsteadOfCatch) delete (map.ItemProcessor.States['Start the job run'] as { Catch?: unknown }).Catch;
  const runChild = interpreterChildRunner(map.ItemProcessor, { overrides: childOverrides }, (_child, e) =>
    childEvents.push(e.type),
  );
  handlers['Process each partition'] = (input) =>
    runDistributedMap(map, input as never, { store, stateMachineArn: SM, runChild, recordsPerFile: 7 });
  const machine = new StateMachine(swapped.definition as unknown as StateMachineDefinition);
  const execution = machine.run(
    { dataset: 'toy', resultsPrefix: runArtifacts('art', ARN).mapResultsPrefix },
    { overrides: { taskResourceLocalHandlers: handlers as never } },
  );
  const parentEvents: Array<{ type: string; state?: { name: string } }> = [];
  const collecting = (async () => {
    for await (const e of execution.eventLogs) parentEvents.push(e as never);
  })();
  let output: unknown;
  let failed: unknown;
  try {
    output = await execution.result;
  } catch (error) {
    failed = error;
  }
  await collecting;
  return { store, output: output as Record<string, unknown>, failed, parentEvents, childEvents, starts, swapped };
}

describe('the local Distributed Map: ItemReader and ResultWriter around the interpreter', () => {
  test("the swap keeps the Map's name, paths, Catch and Next, and drops only iteration fields", () => {
    const { definition, maps } = swapDistributedMaps(toyDefinition(), () => LAMBDA);
    const task = definition.States['Process each partition'] as Record<string, unknown>;
    expect(task).toEqual({
      Type: 'Task',
      Resource: LAMBDA,
      ResultPath: '$.mapRun',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Failed' }],
      Next: 'Done',
    });
    expect(maps['Process each partition']?.ItemReader?.Resource).toBe('arn:aws:states:::s3:getObject');
    expect(definition.States.Prepare).toEqual(toyDefinition().States.Prepare);
  });

  test('every item runs as a child; results go to S3 in the documented layout; the state holds a reference', async () => {
    const { store, output, failed, starts } = await runToy(20, new Set(['3', '11']));
    expect(failed).toBeUndefined();
    expect(starts).toHaveLength(20);
    const mapRun = output.mapRun as { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
    expect(mapRun.ResultWriterDetails.Key).toMatch(/^runs\/toy\/run-1\/map-results\/.+\/manifest\.json$/);
    expect(Buffer.byteLength(JSON.stringify(output))).toBeLessThan(1024);
    const summary = await summarizeMapRun({ dataset: 'toy', executionArn: ARN, mapRun }, store);
    expect(summary).toMatchObject({ total: 20, succeededCount: 18, failedCount: 2 });
    expect(summary.firstFailures.map((f) => [f.partition.n, f.state, f.message]).sort()).toEqual([
      ['11', 'ERROR', 'JobRunFailedError'],
      ['3', 'ERROR', 'JobRunFailedError'],
    ]);
  });

  test("the parent's history does not grow with the number of items", async () => {
    const small = await runToy(5, new Set());
    const large = await runToy(120, new Set());
    expect(large.parentEvents.length).toBe(small.parentEvents.length);
    expect(large.childEvents.filter((t) => t === 'StateEntered')).toHaveLength(120 * 2);
  });

  test('a child that fails as an execution fails the Map Run (no tolerance): the Catch sees the AWS error name', async () => {
    const { failed, output, store, parentEvents } = await runToy(10, new Set(['0']), { MaxConcurrency: 1 }, true);
    // The Map's Catch routed to the Fail state; assert on the run's outcome and on what the Catch received.
    expect((failed as Error).name).toBe('ExecutionError');
    expect(output).toBeUndefined();
    const entered = parentEvents.find((e) => e.type === 'StateEntered' && e.state?.name === 'Failed') as
      { state: { input: { failure: { Error: string } } } } | undefined;
    expect(entered?.state.input.failure.Error).toBe('States.ExceedToleratedFailureThreshold');
    // The results of what did run were still exported: one FAILED child, the rest never started (PENDING).
    const manifestKey = [...store.objects.keys()].find((k) => k.endsWith('manifest.json'))!;
    const manifest = JSON.parse(store.objects.get(manifestKey)!);
    expect(manifest.ResultFiles.FAILED).toHaveLength(1);
    expect(manifest.ResultFiles.PENDING.length).toBeGreaterThan(0);
  });

  test('with ToleratedFailurePercentage 100 the failed children are results, the Map Run succeeds', async () => {
    const { failed, output, store } = await runToy(6, new Set(['1', '2']), { ToleratedFailurePercentage: 100 }, true);
    expect(failed).toBeUndefined();
    const summary = await summarizeMapRun({ dataset: 'toy', executionArn: ARN, mapRun: output.mapRun as never }, store);
    expect(summary).toMatchObject({ succeededCount: 4, failedCount: 2 });
    expect(summary.firstFailures[0]?.message).toMatch(/^Lambda\.Unknown/);
  });
});

describe('paths', () => {
  test('plain paths and templates; anything else is refused', () => {
    const input = { a: { b: 1 }, s: 'x' };
    const context = { Map: { Item: { Value: { n: '1' } } } };
    expect(readPath('$', input, context)).toEqual(input);
    expect(readPath('$.a.b', input, context)).toBe(1);
    expect(readPath('$$.Map.Item.Value', input, context)).toEqual({ n: '1' });
    expect(fillTemplate({ 'x.$': '$.s', y: 2, z: { 'w.$': '$.a' } }, input, context)).toEqual({
      x: 'x',
      y: 2,
      z: { w: { b: 1 } },
    });
    expect(() => readPath("States.Format('{}', $.s)", input, context)).toThrow(/plain paths like \$\.a\.b only/);
    expect(() => readPath('$.missing', input, context)).toThrow(/names nothing/);
  });
});

describe('the Distributed Map fields against the shapes AWS documents', () => {
  test('the toy flow matches; each deviation is named', () => {
    const good = toyDefinition().States['Process each partition'] as unknown as DistributedMapState;
    expect(documentedShapeProblems('Map', good)).toEqual([]);
    const bad = structuredClone(good);
    bad.ItemReader!.Resource = 'arn:aws:states:::s3:listObjectsV2';
    bad.ItemReader!.ReaderConfig = { InputType: 'CSV' };
    bad.ItemReader!.Parameters = { Bucket: 'b', 'Key.$': "States.Format('{}', $.k)", Extra: 1 };
    bad.ResultWriter!.Parameters = { Bucket: 'b' };
    bad.ItemsPath = '$.items';
    bad.ItemProcessor.ProcessorConfig = { Mode: 'INLINE' };
    expect(documentedShapeProblems('Map', bad)).toEqual([
      'Map: ItemReader/ResultWriter need ProcessorConfig.Mode DISTRIBUTED, not INLINE',
      'Map: ItemReader.Resource must be arn:aws:states:::s3:getObject',
      'Map: ItemReader.ReaderConfig.InputType must be JSON',
      'Map: ItemReader.Parameters must be exactly Bucket and Key',
      'Map: ItemsPath and ItemReader exclude each other',
      "Map: ItemReader.Parameters.Key.$ is not a plain reference path: States.Format('{}', $.k)",
      'Map: ResultWriter.Parameters must be exactly Bucket and Prefix',
    ]);
  });

  test('the figure line has the form the issue asks for', () => {
    const events = [
      { type: 'StateEntered', state: { input: { a: 'x'.repeat(100) } } },
      { type: 'StateExited', state: { output: { b: 1 } } },
    ];
    expect(
      figureLine({
        partitions: 100000,
        outcome: 'all-failed',
        largestStatePayload: largestPayload(events),
        snsMessage: 13515,
        parentHistoryEvents: 61,
        transitionsPerPartition: transitions(events) / 1,
      }),
    ).toBe(
      'partitions: 100000  outcome: all-failed  largest state payload: 108 bytes  sns message: 13515 bytes  parent history events: 61  transitions per partition: 1.0',
    );
  });
});
