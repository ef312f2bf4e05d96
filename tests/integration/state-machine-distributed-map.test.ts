/**
 * The runner's ItemReader/ResultWriter support (issue 12), through runStateMachine itself: a definition with a
 * Distributed Map that reads its items from S3 and writes its results there runs with the runner's artifact store,
 * the Map's children call the runner's Task invoker, and the parent's state holds only the ResultWriter reference.
 */
import { MemoryArtifactStore } from '../../adapters/memory/artifact-store';
import { runStateMachine, type Definition, type DefinitionSource } from '../../runtime/state-machine';
import { summarizeMapRun } from '../../domain/steps/map-results';
import { runArtifacts } from '../../domain/common';
import { writePartitionList } from '../../domain/inputs';
import type { StepId } from '../../functions';

const ARN = 'arn:aws:states:eu-west-1:123456789012:execution:sluice-test:dm-1';
const LAMBDA = (id: string) => `arn:aws:lambda:us-east-1:000000000000:function:sluice-local-${id}`;

const definition = {
  StartAt: 'Validate the run request',
  States: {
    'Validate the run request': {
      Type: 'Task',
      Resource: LAMBDA('prepareRun'),
      ResultPath: '$.debounce',
      Next: 'Process each partition',
    },
    'Process each partition': {
      Type: 'Map',
      ItemReader: {
        Resource: 'arn:aws:states:::s3:getObject',
        ReaderConfig: { InputType: 'JSON' },
        Parameters: { 'Bucket.$': '$.debounce.items.bucket', 'Key.$': '$.debounce.items.key' },
      },
      ItemSelector: {
        'dataset.$': '$.dataset',
        'executionArn.$': '$$.Execution.Id',
        'partition.$': '$$.Map.Item.Value',
      },
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: 'Start the job run',
        States: {
          'Start the job run': {
            Type: 'Task',
            Resource: LAMBDA('startJobRun'),
            Retry: [{ ErrorEquals: ['AwsThrottledError'], MaxAttempts: 3 }],
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
      MaxConcurrency: 8,
      Label: 'Partitions',
      ResultPath: '$.mapRun',
      Next: 'Done',
    },
    Done: { Type: 'Succeed' },
  },
} as unknown as Definition;

const source: DefinitionSource = {
  definition,
  stepOf: (resource) => resource.slice(LAMBDA('').length) as StepId,
};

test('a Distributed Map with ItemReader and ResultWriter runs through runStateMachine; the state holds a reference', async () => {
  const store = new MemoryArtifactStore('art');
  const partitions = Array.from({ length: 300 }, (_, i) => ({ n: String(i) }));
  let throttled = 0;
  const childEvents: string[] = [];
  const result = await runStateMachine(
    { dataset: 'orders', resultsPrefix: runArtifacts('art', ARN).mapResultsPrefix },
    {
      executionArn: ARN,
      definition: source,
      artifacts: store,
      onChildEvent: (_child, e) => childEvents.push(e.type),
      invoke: async (target, input) => {
        if (target.stepId === 'prepareRun') return { items: await writePartitionList(store, ARN, partitions) };
        const { partition, executionArn } = input as { partition: { n: string }; executionArn: string };
        expect(executionArn).toBe(ARN);
        if (partition.n === '7' && throttled++ === 0)
          throw Object.assign(new Error('slow down'), { name: 'AwsThrottledError' });
        if (partition.n === '13') throw Object.assign(new Error('job failed'), { name: 'JobRunFailedError' });
        return { ok: true, state: 'SUCCEEDED' };
      },
    },
  );
  expect(result.status).toBe('SUCCEEDED');
  const output = result.output as {
    mapRun: { MapRunArn: string; ResultWriterDetails: { Bucket: string; Key: string } };
  };
  expect(output.mapRun.MapRunArn).toMatch(/^arn:aws:states:eu-west-1:123456789012:mapRun:sluice-test\/Partitions:/);
  const largest = Math.max(
    ...result.events.map((e) => Buffer.byteLength(JSON.stringify(e.state?.output ?? e.state?.input ?? null))),
  );
  expect(largest).toBeLessThan(2048);
  expect(result.events.length).toBeLessThan(20); // the parent's history does not hold the 300 children
  expect(childEvents.filter((t) => t === 'StateRetried')).toHaveLength(1);
  const summary = await summarizeMapRun({ dataset: 'orders', executionArn: ARN, mapRun: output.mapRun }, store);
  expect(summary).toMatchObject({ total: 300, succeededCount: 299, failedCount: 1 });
  expect(summary.firstFailures[0]).toMatchObject({ partition: { n: '13' }, message: 'JobRunFailedError' });
});

test('a Map with ItemReader without an artifact store is refused with its name', async () => {
  await expect(
    runStateMachine({}, { executionArn: ARN, definition: source, invoke: async () => ({}) }),
  ).rejects.toThrow(/Process each partition: a Map with ItemReader\/ResultWriter needs the runner's artifacts store/);
});
