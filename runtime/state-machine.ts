/**
 * Runs an ASL definition with aws-local-stepfunctions. Two things are pluggable, so the same runner serves the
 * source run and the packaged-artifact run without a second flow definition:
 * - the definition source: the ASL file with its `${<Id>FunctionArn}` placeholders bound to local ARNs (default),
 *   or the definition taken from the packaged CloudFormation template, bound to the packaged functions;
 * - the task invoker: the real step in-process (validation, core, logging) with the given ports (default), or the
 *   handler loaded from the function's own zip.
 * Waits and retry pauses are shortened by runner options, never by editing the definition.
 */
import { PROJECT_ROOT } from './project-root';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@aws-lambda-powertools/logger';
import { ExecutionError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { STEPS, type StepId } from '../functions';
import type { Deps } from '../domain/deps';
import { invokeStep, rootLogger } from '../adapters/lambda/step';
import type { LocalEventBus } from '../adapters/local/event-bus';
import {
  driveTokenWaits,
  LocalTokenWaits,
  TOKEN_PLACEHOLDER,
  WAIT_FOR_TASK_TOKEN,
  waitStepOf,
  type AwaitIntercept,
  type WaitStepId,
} from './token-waits';
import type { ArtifactStore } from '../domain/common';
import { validatedBefore } from '../adapters/local/validated-definitions';
import { installJsonPathFastPath } from '../adapters/local/jsonpath-fast-path';
import {
  interpreterChildRunner,
  runDistributedMap,
  swapDistributedMaps,
  type ChildEvent,
  type DistributedMapState,
} from '../adapters/local/distributed-map';

// The interpreter's JSONPath calls go through this module's export (see ./jsonpath-fast-path.ts). A plain require:
// an ES import would bind a copy of the exports object, and replacing the export there would change nothing.
// eslint-disable-next-line @typescript-eslint/no-require-imports
installJsonPathFastPath(require('jsonpath-plus'));

export const DEFINITION_FILE = join(PROJECT_ROOT, 'state-machines', 'sluice.asl.json');

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
interface StateDef {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: unknown; [key: string]: unknown };
  Retry?: unknown[];
  ItemProcessor?: { States: Record<string, StateDef> };
  Iterator?: { States: Record<string, StateDef> };
}
export type Definition = StateMachineDefinition & { States: Record<string, StateDef> };

export function loadDefinition(): Definition {
  return JSON.parse(readFileSync(DEFINITION_FILE, 'utf8')) as Definition;
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

/** A definition whose Task resources are bound (as CloudFormation binds them), and which step each resource is. */
export interface DefinitionSource {
  definition: Definition;
  stepOf(resource: string): StepId;
}

const LOCAL_ARN_PREFIX = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-local-';

let sourceDefinitionCache: DefinitionSource | undefined;

/** The ASL file, placeholders bound to local (never called) function ARNs, like DefinitionSubstitutions. */
export function sourceDefinition(): DefinitionSource {
  if (sourceDefinitionCache) return sourceDefinitionCache;
  const definition = JSON.parse(
    readFileSync(DEFINITION_FILE, 'utf8').replace(
      /\$\{([A-Z][A-Za-z]+)FunctionArn\}/g,
      (_, id: string) => `${LOCAL_ARN_PREFIX}${id}`,
    ),
  ) as Definition;
  sourceDefinitionCache = {
    definition,
    stepOf: (resource) => stepIdOfResource(`\${${resource.slice(LOCAL_ARN_PREFIX.length)}FunctionArn}`),
  };
  return sourceDefinitionCache;
}

export interface TaskTarget {
  stepId: StepId;
  /** The Task's Resource as bound (a function ARN). */
  resource: string;
  stateName: string;
}

/** Calls one Task's function. A rejection's `name` is the error Step Functions matches in Retry/Catch. */
export type TaskInvoker = (target: TaskTarget, input: unknown) => Promise<unknown>;

/** The default invoker: the real step, in-process, with the given ports. */
export function stepInvoker(deps: Deps, logger: Logger = rootLogger): TaskInvoker {
  return (target, input) => invokeStep(STEPS[target.stepId] as never, input, deps, logger) as Promise<unknown>;
}

export interface LocalRunOptions {
  /** Ports for the default (in-process) invoker; not needed when `invoke` is given. */
  deps?: Deps;
  executionArn: string;
  /** Which definition runs (default: the ASL file). */
  definition?: DefinitionSource;
  /** How a Task calls its function (default: the step in-process with `deps`). */
  invoke?: TaskInvoker;
  /** $$.Execution.RedriveCount (default 0). */
  redriveCount?: number;
  /** Milliseconds each Wait state pauses (default 0). */
  waitMs?: (stateName: string) => number;
  /** Milliseconds each retry pauses (default 0). */
  retryMs?: number;
  /** Wraps step invocation, e.g. to inject faults or count calls. */
  intercept?: (
    stepId: StepId | WaitStepId,
    input: unknown,
    stateName: string,
    invoke: () => Promise<unknown>,
  ) => Promise<unknown>;
  onEvent?: (event: LocalEvent) => void;
  logger?: Logger;
  /**
   * `.waitForTaskToken` Tasks (issue 13; runtime/token-waits.ts): where their completion events come from,
   * how simulated time moves for the fallback re-checks, and a hook that receives the run's token waits.
   */
  waits?: {
    bus?: LocalEventBus;
    advanceClock?: (seconds: number) => void;
    onReady?: (waits: LocalTokenWaits) => void;
    /** Lets local work finish and publish its events before any fallback re-check (LocalTokenWaits). */
    progress?: () => Promise<boolean>;
    /** false: the fallback re-check path is broken, so a token wait ends only by event or heartbeat expiry. */
    rechecks?: boolean;
    /**
     * A token Task's handler from outside (the artifact suite: the packaged await function, answered through the
     * SendTask* calls its bundles make). Gets the bound Parameters.FunctionName. Default: in-process with `deps`.
     */
    tokenTask?: (functionName: string, stateName: string) => (input: Json) => Promise<Json>;
  };
  /** Where a Distributed Map's ItemReader reads and ResultWriter writes (issue 12; S3 on AWS, files locally). */
  artifacts?: ArtifactStore;
  /** Events of each Distributed Map child execution (the child's name is its item index). */
  onChildEvent?: (child: string, event: ChildEvent) => void;
}

const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:sluice-local-distributedMap';
const swappedDefinitions = new WeakMap<
  Definition,
  { definition: Definition; maps: Record<string, DistributedMapState> }
>();

/**
 * The interpreter runs a Map inline over ItemsPath and knows no ItemReader/ResultWriter. Such a Map (a Distributed
 * Map reading from and writing to S3) becomes, in memory, a Task of the same name, paths, Retry, Catch and Next,
 * whose handler reads the items, runs the Map's own ItemProcessor per item and writes the results
 * (adapters/local/distributed-map.ts). One definition: the ASL file is not rewritten, and a definition without
 * such a Map runs as it is. Cached per definition, so machineFor validates each once.
 */
function withLocalDistributedMaps(definition: Definition) {
  let swapped = swappedDefinitions.get(definition);
  if (!swapped) {
    const result = swapDistributedMaps(definition, () => DISTRIBUTED_MAP_RESOURCE);
    swapped = Object.keys(result.maps).length > 0 ? result : { definition, maps: {} };
    swappedDefinitions.set(definition, swapped);
  }
  return swapped;
}

/**
 * Without an `onChildEvent` listener, a Distributed Map child's events join the run's events the way the
 * interpreter reports an inline Map's iterations: state events carry the item `index`, and the child's start and
 * end become MapIterationStarted / MapIterationSucceeded / MapIterationFailed. A caller that runs many thousands
 * of children passes `onChildEvent` instead and keeps only what it counts.
 */
function childEventsInto(mapName: string, events: LocalEvent[], onEvent?: (event: LocalEvent) => void) {
  const iteration: Record<string, string> = {
    ExecutionStarted: 'MapIterationStarted',
    ExecutionSucceeded: 'MapIterationSucceeded',
    ExecutionFailed: 'MapIterationFailed',
  };
  return (child: string, event: ChildEvent) => {
    const index = Number(child);
    const type = iteration[event.type] ?? event.type;
    const e = { ...event, type, timestamp: Date.now(), index, parentState: { name: mapName } } as LocalEvent;
    events.push(e);
    onEvent?.(e);
  };
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

/**
 * asl-validator compiles its JSON schemas on every `new StateMachine` (0.35-1.4 s each), so each distinct
 * definition is validated once per process and later machines skip it (the library's `noValidate`).
 */
const validatedDefinitions = new WeakSet<Definition>();

export function machineFor(definition: Definition): StateMachine {
  // Also across processes: the same text that passed the same validator before (./validated-definitions.ts).
  const earlier = validatedDefinitions.has(definition) ? null : validatedBefore(definition);
  if (!earlier || earlier.before) {
    validatedDefinitions.add(definition);
    return new StateMachine(definition, { validationOptions: { noValidate: true } });
  }
  const machine = new StateMachine(definition);
  validatedDefinitions.add(definition);
  earlier.remember();
  return machine;
}

/**
 * The states a redrive of this (failed) run would re-execute. AWS: "A parent workflow redrives unsuccessful states if
 * there's no <stateType>Exited event corresponding to the <stateType>Entered event for a state when the parent
 * workflow completed its execution" (https://docs.aws.amazon.com/step-functions/latest/dg/redrive-map-run.html), and
 * RedriveExecution "continues the failed execution from the unsuccessful step"
 * (https://docs.aws.amazon.com/step-functions/latest/apireference/API_RedriveExecution.html). Top-level states only.
 */
export function unsuccessfulStates(events: LocalEvent[]): string[] {
  const open = new Map<string, number>();
  for (const e of events) {
    if (e.index !== undefined || !e.state) continue;
    if (e.type === 'StateEntered') open.set(e.state.name, (open.get(e.state.name) ?? 0) + 1);
    if (e.type === 'StateExited') open.set(e.state.name, (open.get(e.state.name) ?? 0) - 1);
  }
  return [...open].filter(([, count]) => count > 0).map(([name]) => name);
}

export async function runStateMachine(input: Json, options: LocalRunOptions): Promise<LocalRunResult> {
  const source = options.definition ?? sourceDefinition();
  const invoker = options.invoke ?? (options.deps ? stepInvoker(options.deps, options.logger) : undefined);
  if (!invoker) throw new Error('runStateMachine needs either deps or invoke');
  const taskResourceLocalHandlers: Record<string, (input: Json) => Promise<Json>> = {};
  const waitTimeOverrides: Record<string, number> = {};
  const retryIntervalOverrides: Record<string, number> = {};
  let tokenWaits: LocalTokenWaits | undefined;
  let hasTokenTasks = false; // token Tasks answered from outside (waits.tokenTask) need $$.Task.Token too
  let busy = 0; // plain Task invocations in flight: token waits advance in simulated time only when none is
  for (const [name, state] of allStates(source.definition.States)) {
    const tokenTask = options.waits?.tokenTask;
    if (state.Type === 'Task' && state.Resource === WAIT_FOR_TASK_TOKEN && tokenTask) {
      hasTokenTasks = true;
      taskResourceLocalHandlers[name] = tokenTask(String(state.Parameters?.FunctionName ?? ''), name);
      continue;
    }
    const waitStep = state.Type === 'Task' ? waitStepOf(state) : null;
    if (waitStep) {
      if (!options.deps) throw new Error(`${name}: .waitForTaskToken Tasks run in-process and need deps`);
      tokenWaits ??= new LocalTokenWaits(options.deps, {
        executionArn: options.executionArn,
        ...(options.waits?.bus ? { bus: options.waits.bus } : {}),
        ...(options.waits?.advanceClock ? { advanceClock: options.waits.advanceClock } : {}),
        ...(options.waits?.progress ? { progress: options.waits.progress } : {}),
        ...(options.waits?.rechecks === false ? { rechecks: false } : {}),
        ...(options.intercept ? { intercept: options.intercept as AwaitIntercept } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
      taskResourceLocalHandlers[name] = tokenWaits.handler(waitStep, name);
    } else if (state.Type === 'Task' && state.Resource) {
      const target: TaskTarget = { stepId: source.stepOf(state.Resource), resource: state.Resource, stateName: name };
      const invoke = (payload: Json) => () => invoker(target, payload);
      taskResourceLocalHandlers[name] = async (payload) => {
        busy += 1;
        try {
          return (
            options.intercept
              ? await options.intercept(target.stepId, payload, name, invoke(payload))
              : await invoke(payload)()
          ) as Json;
        } finally {
          busy -= 1;
        }
      };
    }
    if (state.Type === 'Wait') waitTimeOverrides[name] = options.waitMs?.(name) ?? 0;
    if (state.Retry) retryIntervalOverrides[name] = options.retryMs ?? 0;
  }
  const name = options.executionArn.split(':').pop() ?? 'local';
  const events: LocalEvent[] = [];
  const { definition, maps } = withLocalDistributedMaps(source.definition);
  for (const [mapName, map] of Object.entries(maps)) {
    const store = options.artifacts ?? options.deps?.artifacts;
    if (!store) throw new Error(`${mapName}: a Map with ItemReader/ResultWriter needs the runner's artifacts store`);
    const childContext = {
      Execution: { Id: options.executionArn, Name: name, RedriveCount: options.redriveCount ?? 0 },
      ...(tokenWaits || hasTokenTasks ? { Task: { Token: TOKEN_PLACEHOLDER } } : {}),
    };
    const runChild = interpreterChildRunner(
      map.ItemProcessor,
      { overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides }, context: childContext },
      options.onChildEvent ?? childEventsInto(mapName, events, options.onEvent),
    );
    taskResourceLocalHandlers[mapName] = (payload) =>
      runDistributedMap(map, payload, {
        store,
        stateMachineArn: options.executionArn.replace(':execution:', ':stateMachine:').replace(/:[^:]*$/, ''),
        runChild,
        context: childContext as never,
      });
  }
  const machine = machineFor(definition);
  const execution = machine.run(input, {
    overrides: { taskResourceLocalHandlers, waitTimeOverrides, retryIntervalOverrides },
    context: {
      Execution: { Id: options.executionArn, Name: name, RedriveCount: options.redriveCount ?? 0 },
      // $$.Task.Token for token Tasks; each Task's handler mints its own token in place of this placeholder.
      ...(tokenWaits || hasTokenTasks ? { Task: { Token: TOKEN_PLACEHOLDER } } : {}),
    } as never,
  });
  if (tokenWaits) options.waits?.onReady?.(tokenWaits);
  const driving = tokenWaits ? driveTokenWaits(tokenWaits, execution.result, () => busy) : Promise.resolve();
  const collecting = (async () => {
    for await (const event of execution.eventLogs) {
      const e = event as unknown as LocalEvent;
      events.push(e);
      options.onEvent?.(e);
    }
  })();
  try {
    const output = await execution.result;
    await Promise.all([collecting, driving]);
    tokenWaits?.close();
    return { status: 'SUCCEEDED', output, events };
  } catch (error) {
    await Promise.all([collecting, driving]);
    tokenWaits?.close();
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
