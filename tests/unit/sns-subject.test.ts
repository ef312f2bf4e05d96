/**
 * Issue 9, defect 8: SNS Publish refuses a Subject of 100 characters or more, or with line breaks or control
 * characters (https://docs.aws.amazon.com/sns/latest/api/API_Publish.html), and the failure notification is lost.
 */
import fc from 'fast-check';
import { mockClient } from 'aws-sdk-client-mock';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SnsNotifier } from '../../adapters/aws/sns';
import { notifyFailure, snsSubject, SUBJECT_MAX_LENGTH } from '../../domain/steps/notify';
import type { Log } from '../../domain/common';
import { fakeWorld } from '../support/fakes';

const log: Log = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };
const ARN = 'arn:aws:states:eu-west-1:1:execution:sm:e1';

/** What SNS accepts, as its API reference states it (and as tests/support/aws-fakes/sns.ts enforces it). */
const acceptedBySns = (subject: string) => subject.length > 0 && subject.length < 100 && /^[\x20-\x7e]+$/.test(subject);

test('any text becomes a subject SNS accepts', () => {
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 400 }), (text) => acceptedBySns(snsSubject(text))));
  expect(SUBJECT_MAX_LENGTH).toBe(99);
});

test('a short ASCII subject is kept as it is', () => {
  expect(snsSubject('sluice dev: orders failed at checkCrawler')).toBe('sluice dev: orders failed at checkCrawler');
});

test('a long dataset name: the notification is still published, with a cut subject of at most 99 characters', async () => {
  const w = fakeWorld();
  const dataset = `orders_${'very_long_name_'.repeat(8)}`;
  await notifyFailure(
    {
      executionArn: ARN,
      state: { dataset, failure: { prepareRun: { Error: 'UnknownDatasetError', Cause: 'no such dataset' } } },
    },
    w.deps,
    log,
  );
  const [sent] = w.notifier.published;
  expect(sent!.subject.length).toBeLessThanOrEqual(SUBJECT_MAX_LENGTH);
  expect(sent!.subject).toMatch(/^sluice test: orders_very_long_name_.*\.\.\.$/);
  expect(acceptedBySns(sent!.subject)).toBe(true);
  expect(sent!.message).toContain(dataset);
});

test('the SNS adapter never sends a subject SNS would refuse, whatever it is given', async () => {
  const sns = mockClient(SNSClient);
  sns.on(PublishCommand).resolves({ MessageId: 'm1' });
  const notifier = new SnsNotifier(new SNSClient({ region: 'eu-west-1' }), 'arn:aws:sns:eu-west-1:1:t');
  await notifier.publish({ subject: `line one\nline two é ${'x'.repeat(200)}`, message: 'm', attributes: {} });
  const subject = sns.commandCalls(PublishCommand)[0]!.args[0].input.Subject!;
  expect(acceptedBySns(subject)).toBe(true);
  expect(subject.startsWith('line one line two ? x')).toBe(true);
  sns.restore();
});
