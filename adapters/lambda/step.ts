/**
 * The thin-handler recipe every step Lambda follows: validate input against its schema, run the pure core with
 * injected ports and a logger that carries dataset/partition/execution, validate the output, return it.
 * `invokeStep` is the same path without middy: the local runtime and the state-machine tests call it.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { Metrics } from '@aws-lambda-powertools/metrics';
import middy from '@middy/core';
import { InvalidOutputError, type Log, validate, type SchemaName } from '../../domain/common';
import { METRICS, METRICS_NAMESPACE, stepMetrics, type MetricPoint, type MetricsPort } from '../../domain/metrics';
import type { Deps } from '../../domain/deps';

export interface StepDefinition<I, O> {
  /** Also the function's name in serverless.yml and its `${<Id>FunctionArn}` placeholder in the ASL. */
  id: string;
  input: SchemaName;
  output: SchemaName;
  run(input: I, deps: Deps, log: Log): Promise<O>;
}

export function defineStep<I, O>(step: StepDefinition<I, O>): StepDefinition<I, O> {
  return step;
}

export const rootLogger = new Logger({ serviceName: 'sluice' });

/** dataset, partition and execution id, wherever the input holds them. */
export function logKeys(input: unknown): Record<string, string> {
  const keys: Record<string, string> = {};
  if (typeof input !== 'object' || input === null) return keys;
  const record = input as Record<string, unknown>;
  const state = (record.state ?? {}) as Record<string, unknown>;
  const run = (state.run ?? record.run ?? {}) as Record<string, unknown>;
  const dataset = record.dataset ?? run.dataset ?? state.dataset;
  if (typeof dataset === 'string') keys.dataset = dataset;
  const execution = record.executionArn ?? run.executionArn;
  if (typeof execution === 'string') keys.executionArn = execution;
  if (typeof record.partition === 'object' && record.partition !== null)
    keys.partition = Object.entries(record.partition)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join('/');
  return keys;
}

/**
 * A Log whose every line carries `keys` (step, dataset, partition, execution). The keys ride on each call rather
 * than on a `logger.createChild`: a Powertools child builds a new Console and re-reads the environment, about 1 ms
 * per step invocation, which the local runtime pays thousands of times per run (issue 14).
 */
export function asLog(logger: Logger, keys: Record<string, string> = {}): Log {
  const withKeys = (extra?: Record<string, unknown>) => (extra ? { ...keys, ...extra } : keys);
  return {
    debug: (message, extra) => logger.debug(message, withKeys(extra)),
    info: (message, extra) => logger.info(message, withKeys(extra)),
    warn: (message, extra) => logger.warn(message, withKeys(extra)),
    error: (message, extra) => logger.error(message, withKeys(extra)),
  };
}

export async function invokeStep<I, O>(
  step: StepDefinition<I, O>,
  rawInput: unknown,
  deps: Deps,
  logger: Logger = rootLogger,
): Promise<O> {
  const log = asLog(logger, { step: step.id, ...logKeys(rawInput) });
  try {
    const input = validate<I>(step.input, structuredClone(rawInput), `${step.id} input`);
    const output = await step.run(input, deps, log);
    return validate<O>(step.output, output, `${step.id} output`, InvalidOutputError);
  } catch (error) {
    log.error('step failed', { error: error as Error });
    throw error;
  }
}

/**
 * Writes metric points as CloudWatch embedded-metric-format lines on stdout (Powertools Metrics: no API call;
 * CloudWatch extracts them from the log group). One EMF document per dataset, dimensions exactly {stage, dataset}:
 * Powertools' default `service` dimension is cleared so the dashboard and alarms match the same dimension set.
 */
export function publishMetrics(points: MetricPoint[], stage: string): void {
  const byDataset = new Map<string, MetricPoint[]>();
  for (const p of points) byDataset.set(p.dataset, [...(byDataset.get(p.dataset) ?? []), p]);
  for (const [dataset, list] of byDataset) {
    const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: 'sluice' });
    metrics.clearDefaultDimensions();
    metrics.setDefaultDimensions({ stage, dataset });
    for (const p of list) metrics.addMetric(p.name, METRICS[p.name].unit, p.value);
    metrics.publishStoredMetrics();
  }
}

/** deps.metrics for a Lambda: EMF lines on stdout (no API call). Never throws: metrics must not fail a step. */
export function emfMetrics(stage: string): MetricsPort {
  return {
    record(points) {
      try {
        publishMetrics(points, stage);
      } catch (error) {
        rootLogger.warn('metrics not emitted', { error: error as Error });
      }
    },
  };
}

/** Deriving or writing metrics must never fail a step that did its work. */
function emitStepMetrics(stepId: string, input: unknown, output: unknown, stage: string): void {
  try {
    publishMetrics(stepMetrics(stepId, input, output, new Date()), stage);
  } catch (error) {
    rootLogger.warn('metrics not emitted', { step: stepId, error: error as Error });
  }
}

/** The Lambda entry point for a step; AWS ports are created lazily, once per container. */
export function lambdaHandler<I, O>(step: StepDefinition<I, O>, deps: () => Deps) {
  return middy(async (event: unknown) => {
    const resolved = deps();
    const output = await invokeStep(step, event, resolved);
    emitStepMetrics(step.id, event, output, resolved.config.stage);
    return output;
  }).use(injectLambdaContext(rootLogger, { resetKeys: true }));
}
