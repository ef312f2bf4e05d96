/**
 * Runs the real ASL file with aws-local-stepfunctions; every Task state calls the real step (validation, core,
 * logging) with whatever ports it is given. Waits and retry pauses are shortened by configuration, never by
 * editing the definition.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { STEPS, type StepId } from '../../functions';
import type { Deps } from '../../domain/ports';
import { invokeStep, rootLogger } from '../lambda/step';

export const DEFINITION_FILE = join(__dirname, '..', '..', 'state-machines', 'sluice.asl.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface StateDef {
  Type: string;
  Resource?: string;
  Retry?: unknown[];
  ItemProcessor?: { States: Record<string, StateDef> };
  Iterator?: { States: Record<string, StateDef> };
}

export function loadDefinition(): StateMachineDefinition & { States: Record<string, StateDef> } {
  return JSON.parse(readFileSync(DEFINITION_FILE, 'utf8')) as StateMachineDefinition & {
    States: Record<string, StateDef>;
  };
}

/** Every state, nested Map processors included, as [name, definition]. */
export function allStates(states: Record<string, StateDef>): Array<[string, StateDef]> {
  return Object.entries(states).flatMap(([name, state]) => {
    const nested = state.ItemProcessor?.States ?? state.Iterator?.States;
    return [[name, state] as [string, StateDef], ...(nested ? allStates(nested) : [])];
  });
}

/** `${StartJobRunFunctionArn}` -> `startJobRun`. */
export function stepIdOfResource(resource: string): StepId {
  const match = /^\$\{([A-Z][A-Za-z]+)FunctionArn\}$/.exec(resource);
  const id = match ? `${match[1]?.charAt(0).toLowerCase()}${match[1]?.slice(1)}` : '';
  if (!(id in STEPS)) throw new Error(`Task resource ${resource} names no step in functions/`);
  return id as StepId;
}

export type StepInvoker = (stepId: StepId, input: unknown, stateName: string) => Promise<unknown>;

export interface LocalRunOptions {
  deps: Deps;
  executionArn: string;
  /** Milliseconds each Wait state pauses (default 0). */
  waitMs?: (stateName: string) => number;
  /** Milliseconds each retry pauses (default 0). */
  retryMs?: number;
  /** Wraps step invocation, e.g. to inject faults or count calls. */
  intercept?: (stepId: StepId, input: unknown, stateName: string, invoke: () => Promise<unknown>) => Promise<unknown>;
  onEvent?: (event: LocalEvent) => void;
  logger?: Logger;
}

export interface LocalEvent {
  type: string;
  timestamp: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  index?: number;
  parentState?: { name: string };
  Error?: string;
  Cause?: unknown;
  [key: string]: unknown;
}

export interface LocalRunResult {
  status: 'SUCCEEDED' | 'FAILED';
  output?: unknown;
  error?: string;
  cause?: string;
  events: LocalEvent[];
}

export async function runStateMachine(input: Json, options: LocalRunOptions): Promise<LocalRunResult> {
  const definition = loadDefinition();
  const states = allStates(definition.States);
  const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  for (const [name, state] of states) {
    if (state.Type === 'Task' && state.Resource) {
      const stepId = stepIdOfResource(state.Resource);
      const invoke = (payload: Json) => () =>
        invokeStep(STEPS[stepId] as never, payload, options.deps, options.logger ?? rootLogger) as Promise<unknown>;
      taskResourceLocalHandlers[name] = async (payload) =>
        (options.intercept
          ? await options.intercept(stepId, payload, name, invoke(payload))
          : await invoke(payload)()) as Json;
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.waitMs?.(name) ?? 0;
    if (state.Retry) retryIntervalOverrides[name] = options.retryMs ?? 0;
  }
  // Like CloudFormation's DefinitionSubstitutions: placeholders become (local, never called) function ARNs.
  const substituted = JSON.parse(
    JSON.stringify(definition).replace(
      /\$\{([A-Z][A-Za-z]+)FunctionArn\}/g,
      (_, id: string) => `arn:aws:lambda:us-east-1:000000000000:function:sluice-local-${id}`,
    ),
  ) as StateMachineDefinition;
  const machine = new StateMachine(substituted);
  const name = options.executionArn.split(':').pop() ?? 'local';
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: { Execution: { Id: options.executionArn, Name: name } },
  });
  const events: LocalEvent[] = [];
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as unknown as LocalEvent;
      events.push(e);
      options.onEvent?.(e);
    }
  })();
  try {
    const output = await execution.result;
    await collecting;
    return { status: 'SUCCEEDED', output, events };
  } catch (error) {
    await collecting;
    if (error instanceof ExecutionError) {
      const failed = events.find((e) => e.type === 'ExecutionFailed');
      return {
        status: 'FAILED',
        error: String(failed?.Error ?? (error as Error).name),
        cause: String(failed?.Cause ?? (error as Error).message),
        events,
      };
    }
    throw error;
  }
}
