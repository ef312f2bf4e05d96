/**
 * The waits family of the stack (issue 13, deploy/waits.ts), from buildStack for both stages, without
 * packaging: the packaged template's generic rules (async destinations, names, IAM derived from the code, cfn-lint)
 * are in tests/integration/deploy.test.ts, which includes these functions.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadConfigFile } from '../../domain/config';
import { buildStack } from '../../deploy/stack';
import { WAIT_FUNCTIONS } from '../../deploy/waits';
import { PACKAGE_ALARM_EMAIL } from '../support/package-stack';

const ROOT = join(__dirname, '..', '..');
const asl = readFileSync(join(ROOT, 'state-machines', 'sluice.asl.json'), 'utf8');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- CloudFormation JSON

describe.each(['dev', 'prod'])('the %s stack', (stage) => {
  const config = loadConfigFile(join(ROOT, 'config', `${stage}.json`));
  const stack = buildStack(config, stage, asl, { SLUICE_ALARM_EMAIL: PACKAGE_ALARM_EMAIL });
  const resources = stack.resources.Resources as Json;
  const functions = stack.functions as Json;
  const statementsOf = (fn: string): Json[] =>
    resources[`${fn.charAt(0).toUpperCase()}${fn.slice(1)}Role`].Properties.Policies[0].PolicyDocument.Statement;
  const actionsOf = (fn: string): string[] => statementsOf(fn).flatMap((s) => s.Action);

  test('three rules send the final state changes of this stage’s jobs, crawlers and workgroup to completeWait', () => {
    const patterns = ['WaitGlueJobRule', 'WaitGlueCrawlerRule', 'WaitAthenaQueryRule'].map((id) => {
      const rule = resources[id].Properties;
      expect(rule.Targets).toEqual([
        expect.objectContaining({
          Id: 'completeWait',
          Arn: { 'Fn::GetAtt': ['CompleteWaitLambdaFunction', 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': ['WaitEventsDeadLetterQueue', 'Arn'] } },
        }),
      ]);
      expect(resources[`${id}Permission`].Properties).toMatchObject({ Principal: 'events.amazonaws.com' });
      return rule.EventPattern;
    });
    expect(patterns[0].detail.jobName).toEqual(config.datasets.map((d) => d.job.name));
    expect(patterns[0].detail.state).toEqual(expect.arrayContaining(['SUCCEEDED', 'FAILED', 'TIMEOUT', 'STOPPED']));
    expect(patterns[1].detail).toEqual({
      crawlerName: config.datasets.map((d) => d.crawler.name),
      state: ['Succeeded', 'Failed'],
    });
    expect(patterns[2].detail.workgroupName).toEqual([config.athena.workgroup]);
    expect(patterns[2].detail.currentState).not.toContain('RUNNING');
  });

  test('the re-check queue feeds recheckWait in partial batches and dead-letters into an alarmed queue', () => {
    expect(functions.recheckWait.events).toEqual([
      { sqs: expect.objectContaining({ functionResponseType: 'ReportBatchItemFailures' }) },
    ]);
    expect(resources.WaitRecheckQueue.Properties.RedrivePolicy).toEqual({
      deadLetterTargetArn: { 'Fn::GetAtt': ['WaitRecheckDeadLetterQueue', 'Arn'] },
      maxReceiveCount: 5,
    });
    expect(resources.WaitRecheckQueue.Properties.VisibilityTimeout).toBeGreaterThanOrEqual(
      6 * functions.recheckWait.timeout,
    );
    for (const queue of ['WaitRecheckDeadLetterQueue', 'WaitEventsDeadLetterQueue'])
      expect(resources[`${queue}Alarm`].Properties).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 0,
        AlarmActions: [{ Ref: 'FailureTopic' }],
      });
  });

  test('each wait function has its own role with what its code needs to answer tokens', () => {
    for (const fn of Object.keys(WAIT_FUNCTIONS)) {
      expect(functions[fn].environment).toEqual({ SLUICE_RECHECK_QUEUE_URL: { Ref: 'WaitRecheckQueue' } });
      expect(actionsOf(fn)).toEqual(expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure']));
    }
    expect(actionsOf('recheckWait')).toContain('states:SendTaskHeartbeat');
    // Issue 26: on "*" (no resource type for these actions), so Distributed Map children's tokens are covered.
    for (const fn of Object.keys(WAIT_FUNCTIONS))
      for (const s of statementsOf(fn).filter((x) => String(x.Action).includes('states:SendTask')))
        expect([fn, s.Resource]).toEqual([fn, ['*']]);
    expect(actionsOf('completeWait')).not.toContain('states:SendTaskHeartbeat');
    expect(actionsOf('awaitJobRun')).toEqual(expect.arrayContaining(['dynamodb:PutItem', 'sqs:SendMessage']));
    expect(functions.completeWait.destinations).toEqual({
      onFailure: { type: 'sqs', arn: { 'Fn::GetAtt': ['WaitEventsDeadLetterQueue', 'Arn'] } },
    });
  });
});
