/**
 * Observability of a stage: one CloudWatch dashboard (freshness, throughput, failures, dead-letter depths, latency
 * percentiles) over the metrics the Lambdas emit as embedded metric format (domain/metrics/metrics.ts: namespace `sluice`,
 * dimensions exactly {stage, dataset}), and a freshness alarm per dataset that sets `freshnessSlaMinutes`.
 *
 * Freshness is the time since the newest arrival that is queryable. CloudWatch has no "now" to subtract from, so
 * the alarm watches its two causes over a window of SLA minutes: nothing became queryable in the window
 * (PartitionsQueryable sum < 1, missing data filled with 0), or what became queryable took longer than the SLA to
 * get there (LandingToQueryable maximum > SLA). Either means freshness exceeded the SLA. Metric math IF/FILL:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
 * Alarms on metric math (Metrics array, one expression with ReturnData true):
 * https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html
 */
import { METRICS_NAMESPACE, type MetricName } from '../domain/metrics';
import { pascal, ref, type Cfn, type Family } from './cfn';
import type { StackContext } from './context';

const DAY_SECONDS = 86_400;

const dims = (stage: string, dataset: string) => ['stage', stage, 'dataset', dataset];

/** A dashboard metric line: [namespace, name, ...dimensions, options]. */
function line(stage: string, dataset: string, name: MetricName, options: Record<string, unknown> = {}): unknown[] {
  return [METRICS_NAMESPACE, name, ...dims(stage, dataset), { label: `${dataset} ${name}`, ...options }];
}

function widget(title: string, metrics: unknown[][], extra: Record<string, unknown> = {}, width = 12): Cfn {
  return {
    type: 'metric',
    width,
    height: 6,
    properties: { title, region: '${AWS::Region}', view: 'timeSeries', period: 300, metrics, ...extra },
  };
}

/** Every dead-letter queue the stack defines (by its name's `-dead-letters` suffix, the convention of every family). */
export function deadLetterQueueNames(resources: Readonly<Record<string, Cfn>>): string[] {
  return Object.values(resources)
    .filter((r) => r.Type === 'AWS::SQS::Queue')
    .map((r) => (r.Properties as { QueueName?: unknown } | undefined)?.QueueName)
    .filter((name): name is string => typeof name === 'string' && name.endsWith('dead-letters'))
    .sort();
}

export function dashboardBody(ctx: StackContext, deadLetterQueues: string[]): Cfn {
  const { stage, config } = ctx;
  const datasets = config.datasets.map((d) => d.name);
  const names = config.names;
  const stateMachineArn = `arn:\${AWS::Partition}:states:\${AWS::Region}:\${AWS::AccountId}:stateMachine:${names.stateMachine}`;
  const freshness = datasets.flatMap((d, i) => [
    [METRICS_NAMESPACE, 'NewestQueryableArrival', ...dims(stage, d), { id: `n${i}`, stat: 'Maximum', visible: false }],
    [
      {
        expression: `(EPOCH(n${i}) - n${i}) / 60`,
        label: `${d} minutes since the newest queryable arrival`,
        id: `f${i}`,
      },
    ],
  ]);
  const widgets: Cfn[] = [
    {
      type: 'text',
      width: 24,
      height: 2,
      properties: {
        markdown: `## sluice ${stage}\nFreshness = time since the newest arrival that is queryable. Terminal: \`npm run sluice -- status --stage ${stage}\`.`,
      },
    },
    widget('Freshness (minutes, at each registration)', freshness),
    widget(
      'Landing to queryable (seconds, p50 / p90 / p99)',
      datasets.flatMap((d) => ['p50', 'p90', 'p99'].map((stat) => line(stage, d, 'LandingToQueryable', { stat }))),
    ),
    widget(
      'Throughput',
      datasets.flatMap((d) =>
        (['ArrivalsAccepted', 'RunsStarted', 'PartitionsProcessed', 'PartitionsQueryable', 'RowsOut'] as const).map(
          (m) => line(stage, d, m, { stat: 'Sum' }),
        ),
      ),
    ),
    widget('Failures', [
      ...datasets.flatMap((d) =>
        (['RunsFailed', 'PartitionsFailed', 'RowsBad', 'ArrivalsRejected'] as const).map((m) =>
          line(stage, d, m, { stat: 'Sum' }),
        ),
      ),
      line(stage, 'none', 'ArrivalsRejected', { stat: 'Sum', label: 'rejected outside every dataset' }),
      ['AWS/States', 'ExecutionsFailed', 'StateMachineArn', stateMachineArn, { stat: 'Sum' }],
      ['AWS/States', 'ExecutionsTimedOut', 'StateMachineArn', stateMachineArn, { stat: 'Sum' }],
      ['AWS/States', 'ExecutionsAborted', 'StateMachineArn', stateMachineArn, { stat: 'Sum' }],
    ]),
    widget(
      'Dead-letter queue depths',
      deadLetterQueues.map((q) => [
        'AWS/SQS',
        'ApproximateNumberOfMessagesVisible',
        'QueueName',
        q,
        { stat: 'Maximum', label: q },
      ]),
    ),
    widget(
      'Run cost (dollars per run: Glue + crawler + Athena + Step Functions)',
      datasets.flatMap((d) => [
        line(stage, d, 'RunCostUSD', { stat: 'Sum', label: `${d} dollars (sum)` }),
        line(stage, d, 'RunCostUSD', { stat: 'Maximum', label: `${d} dollars (costliest run)` }),
      ]),
    ),
    widget(
      'Job duration and debounce wait (seconds, p50 / p90 / p99)',
      datasets.flatMap((d) => [
        ...['p50', 'p90', 'p99'].map((stat) => line(stage, d, 'JobDuration', { stat })),
        ...['p50', 'p90'].map((stat) => line(stage, d, 'DebounceWait', { stat })),
      ]),
    ),
  ];
  // Fn::Sub fills in region, partition and account; the body holds no other ${...}.
  return { 'Fn::Sub': JSON.stringify({ widgets }) };
}

/**
 * Alarms look back at most 7 days (Period x EvaluationPeriods <= 604,800 s; <= 1 day when the period is under an
 * hour): https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
 */
export const MAX_FRESHNESS_SLA_MINUTES = 7 * 24 * 60;

/** Period and number of periods covering the SLA: CloudWatch periods are multiples of 60 s, at most a day here. */
export function freshnessWindow(
  slaMinutes: number,
  where = 'freshnessSlaMinutes',
): { period: number; periods: number } {
  if (slaMinutes > MAX_FRESHNESS_SLA_MINUTES)
    throw new Error(
      `${where} is ${slaMinutes}: a CloudWatch alarm looks back at most 7 days (${MAX_FRESHNESS_SLA_MINUTES} minutes)`,
    );
  const seconds = Math.max(60, Math.ceil(slaMinutes) * 60);
  const period = Math.min(DAY_SECONDS, seconds);
  return { period, periods: Math.ceil(seconds / period) };
}

export function freshnessAlarm(ctx: StackContext, dataset: string, slaMinutes: number): Cfn {
  const { period, periods } = freshnessWindow(slaMinutes, `dataset '${dataset}' freshnessSlaMinutes`);
  const metric = (id: string, name: MetricName, stat: string) => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: {
        Namespace: METRICS_NAMESPACE,
        MetricName: name,
        Dimensions: [
          { Name: 'stage', Value: ctx.stage },
          { Name: 'dataset', Value: dataset },
        ],
      },
      Period: period,
      Stat: stat,
    },
  });
  return {
    Type: 'AWS::CloudWatch::Alarm',
    Properties: {
      AlarmName: `${ctx.config.names.service}-${dataset}-freshness`,
      AlarmDescription:
        `${dataset}: the newest queryable arrival is older than ${slaMinutes} minutes (nothing became queryable ` +
        `in that time, or it took longer to). Check: npm run sluice -- status --stage ${ctx.stage}`,
      Metrics: [
        metric('queryable', 'PartitionsQueryable', 'Sum'),
        metric('latency', 'LandingToQueryable', 'Maximum'),
        {
          Id: 'stale',
          Label: `${dataset} freshness over ${slaMinutes} min`,
          Expression: `IF(FILL(queryable, 0) < 1 || FILL(latency, 0) > ${slaMinutes * 60}, 1, 0)`,
          ReturnData: true,
        },
      ],
      EvaluationPeriods: periods,
      DatapointsToAlarm: periods,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      // No data at all (nothing emitted) is stale data, not "no news".
      TreatMissingData: 'breaching',
      AlarmActions: [ref('FailureTopic')],
      OKActions: [ref('FailureTopic')],
    },
  };
}

export const DASHBOARD_ID = 'SluiceDashboard';
export const freshnessAlarmId = (dataset: string): string => `${pascal(dataset)}FreshnessAlarm`;

/** Last in the stack's FAMILIES, so `before` holds every other resource (its dead-letter queues in particular). */
export function observability(ctx: StackContext, before: Readonly<Record<string, Cfn>> = {}): Family {
  const resources: Record<string, Cfn> = {
    [DASHBOARD_ID]: {
      Type: 'AWS::CloudWatch::Dashboard',
      Properties: {
        DashboardName: ctx.config.names.service,
        DashboardBody: dashboardBody(ctx, deadLetterQueueNames(before)),
      },
    },
  };
  for (const d of ctx.config.datasets) {
    const sla = d.freshnessSlaMinutes;
    if (sla !== undefined) resources[freshnessAlarmId(d.name)] = freshnessAlarm(ctx, d.name, sla);
  }
  return {
    resources,
    outputs: {
      DashboardName: { Value: ref(DASHBOARD_ID) },
      DashboardUrl: {
        Value: {
          'Fn::Sub': `https://\${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=\${AWS::Region}#dashboards/dashboard/${ctx.config.names.service}`,
        },
      },
    },
  };
}
