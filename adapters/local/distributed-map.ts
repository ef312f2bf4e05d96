/**
 * What Step Functions does around a Distributed Map that the local interpreter does not: ItemReader (read the items
 * from a JSON array in S3) and ResultWriter (export every child execution's record to S3, per status, with a
 * manifest.json, and make the Map's output {MapRunArn, ResultWriterDetails}). Same shapes as AWS documents
 * (https://docs.aws.amazon.com/step-functions/latest/dg/input-output-itemreader.html and
 * .../input-output-resultwriter.html), written through an ArtifactStore, so on a laptop the files sit under the
 * lake in the layout AWS would produce in the artifacts bucket.
 */
import { randomUUID } from 'node:crypto';
import { ExecutionError, StateMachine, type RunOptions, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type ArtifactStore, type ObjectLocation, InvalidInputError } from '../../domain/common';
import type { MapResultManifest, MapResultRecord, MapRunOutput } from '../../schemas/types.generated';

/** The ItemReader fields sluice uses: a JSON array in S3 (InputType JSON). */
export interface ItemReaderSpec {
  Resource: string;
  ReaderConfig?: { InputType?: string; MaxItems?: number };
  Parameters: { Bucket: string; Key: string };
}

export interface ResultWriterSpec {
  Resource: string;
  Parameters: { Bucket: string; Prefix: string };
}

export const S3_GET_OBJECT = 'arn:aws:states:::s3:getObject';
export const S3_PUT_OBJECT = 'arn:aws:states:::s3:putObject';

/** ItemReader over a JSON array: every element is one item (MaxItems, when set, keeps the first N). */
export async function readItems(store: ArtifactStore, reader: ItemReaderSpec): Promise<unknown[]> {
  if (reader.Resource !== S3_GET_OBJECT || reader.ReaderConfig?.InputType !== 'JSON')
    throw new InvalidInputError(
      `local ItemReader supports ${S3_GET_OBJECT} with ReaderConfig.InputType JSON only, got ${reader.Resource} ${reader.ReaderConfig?.InputType}`,
    );
  const at = { bucket: reader.Parameters.Bucket, key: reader.Parameters.Key };
  const text = await store.get(at);
  // Step Functions fails the Map state with States.ItemReaderFailed when it cannot read the items.
  if (text === null)
    throw Object.assign(new Error(`s3://${at.bucket}/${at.key} does not exist`), { name: 'States.ItemReaderFailed' });
  const items = JSON.parse(text) as unknown;
  if (!Array.isArray(items))
    throw Object.assign(new Error(`s3://${at.bucket}/${at.key} is not a JSON array`), {
      name: 'States.ItemReaderFailed',
    });
  const max = reader.ReaderConfig?.MaxItems;
  return max ? items.slice(0, max) : items;
}

export interface ChildRun {
  name: string;
  input: unknown;
  status: 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | 'PENDING';
  output?: unknown;
  error?: string;
  cause?: string;
  startedAt: Date;
  stoppedAt: Date;
}

/** A child execution as ResultWriter writes it (Transformation NONE, the default when exporting). */
export function resultRecord(stateMachineArn: string, mapLabel: string, child: ChildRun): MapResultRecord {
  const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}/${mapLabel}:${child.name}`;
  const record: MapResultRecord = {
    ExecutionArn: executionArn,
    Input: JSON.stringify(child.input),
    InputDetails: { Included: true },
    Name: child.name,
    RedriveCount: 0,
    RedriveStatus: child.status === 'SUCCEEDED' ? 'NOT_REDRIVABLE' : 'REDRIVABLE_BY_MAP_RUN',
    StartDate: child.startedAt.toISOString(),
    StateMachineArn: `${stateMachineArn}/${mapLabel}`,
    Status: child.status === 'PENDING' ? 'PENDING' : child.status,
    StopDate: child.stoppedAt.toISOString(),
  };
  if (child.status === 'SUCCEEDED') {
    record.Output = JSON.stringify(child.output ?? null);
    record.OutputDetails = { Included: true };
    record.RedriveStatusReason = 'Execution is SUCCEEDED and cannot be redriven';
  } else if (child.status !== 'PENDING') {
    record.Error = child.error ?? 'States.TaskFailed';
    record.Cause = child.cause ?? '';
  }
  return record;
}

/**
 * Exports a finished Map Run as ResultWriter does: `<Prefix>/<map run id>/<STATUS>_<n>.json` files and a
 * manifest.json, then the Map state's output. `recordsPerFile` splits files (AWS splits at 5 GB) so readers are
 * exercised on several files.
 */
export async function writeMapRunResults(
  store: ArtifactStore,
  writer: ResultWriterSpec,
  stateMachineArn: string,
  mapLabel: string,
  children: readonly ChildRun[],
  recordsPerFile = 10_000,
): Promise<MapRunOutput> {
  if (writer.Resource !== S3_PUT_OBJECT)
    throw new InvalidInputError(`local ResultWriter supports ${S3_PUT_OBJECT} only, got ${writer.Resource}`);
  const mapRunId = randomUUID();
  const folder = `${writer.Parameters.Prefix.replace(/\/+$/, '')}/${mapRunId}`;
  const bucket = writer.Parameters.Bucket;
  const resultFiles: Required<MapResultManifest['ResultFiles']> = { FAILED: [], PENDING: [], SUCCEEDED: [] };
  const groups: Record<'FAILED' | 'PENDING' | 'SUCCEEDED', MapResultRecord[]> = {
    FAILED: [],
    PENDING: [],
    SUCCEEDED: [],
  };
  for (const child of children) {
    const group = child.status === 'SUCCEEDED' ? 'SUCCEEDED' : child.status === 'PENDING' ? 'PENDING' : 'FAILED';
    groups[group].push(resultRecord(stateMachineArn, mapLabel, child));
  }
  for (const status of ['FAILED', 'PENDING', 'SUCCEEDED'] as const) {
    const records = groups[status];
    for (let n = 0; n * recordsPerFile < records.length; n++) {
      const location: ObjectLocation = { bucket, key: `${folder}/${status}_${n}.json` };
      const body = JSON.stringify(records.slice(n * recordsPerFile, (n + 1) * recordsPerFile));
      await store.put(location, body);
      resultFiles[status].push({ Key: location.key, Size: Buffer.byteLength(body) });
    }
  }
  const mapRunArn = `${stateMachineArn.replace(':stateMachine:', ':mapRun:')}/${mapLabel}:${mapRunId}`;
  const manifest: MapResultManifest = { DestinationBucket: bucket, MapRunArn: mapRunArn, ResultFiles: resultFiles };
  const manifestKey = `${folder}/manifest.json`;
  await store.put({ bucket, key: manifestKey }, JSON.stringify(manifest));
  return { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: manifestKey } };
}

// ---------------------------------------------------------------------------------------------------------------
// The Distributed Map itself, for the local interpreter: the Map state of the one ASL file is swapped, in memory,
// for a Task of the same name (same InputPath, ResultPath, Retry, Catch, Next), whose local handler reads the
// items, runs the Map's own ItemProcessor once per item as a child execution, and writes the results.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface DistributedMapState {
  Type: 'Map';
  ItemReader?: {
    Resource: string;
    ReaderConfig?: { InputType?: string; MaxItems?: number };
    Parameters: Record<string, Json>;
  };
  ItemsPath?: string;
  ItemSelector?: Record<string, Json>;
  ItemProcessor: { StartAt: string; States: Record<string, unknown>; ProcessorConfig?: { Mode?: string } };
  ResultWriter?: { Resource: string; Parameters: Record<string, Json> };
  MaxConcurrency?: number;
  MaxConcurrencyPath?: string;
  ToleratedFailurePercentage?: number;
  ToleratedFailureCount?: number;
  Label?: string;
  [field: string]: unknown;
}

/** Fields that belong to the Map's iteration and are not a Task's. */
const MAP_ONLY_FIELDS = [
  'ItemReader',
  'ItemsPath',
  'ItemSelector',
  'ItemProcessor',
  'Iterator',
  'ItemBatcher',
  'ResultWriter',
  'MaxConcurrency',
  'MaxConcurrencyPath',
  'ToleratedFailurePercentage',
  'ToleratedFailurePercentagePath',
  'ToleratedFailureCount',
  'ToleratedFailureCountPath',
  'Label',
  'Parameters',
];

/** The Map states that need the stand-in: Distributed mode with an ItemReader or a ResultWriter. */
export function needsLocalDistributedMap(state: {
  Type?: string;
  ItemReader?: unknown;
  ResultWriter?: unknown;
}): boolean {
  return state.Type === 'Map' && (state.ItemReader !== undefined || state.ResultWriter !== undefined);
}

/**
 * A copy of the definition where each such Map is a Task with the given resource (never called: the interpreter's
 * local handler for that state name runs instead). The original Map definitions are returned by state name.
 */
export function swapDistributedMaps<D extends { States: Record<string, unknown> }>(
  definition: D,
  resourceFor: (stateName: string) => string,
): { definition: D; maps: Record<string, DistributedMapState> } {
  const maps: Record<string, DistributedMapState> = {};
  const States: Record<string, unknown> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    const s = state as DistributedMapState;
    if (!needsLocalDistributedMap(s)) {
      States[name] = state;
      continue;
    }
    maps[name] = s;
    const task: Record<string, unknown> = { Type: 'Task', Resource: resourceFor(name) };
    for (const [field, value] of Object.entries(s))
      if (field !== 'Type' && !MAP_ONLY_FIELDS.includes(field)) task[field] = value;
    States[name] = task;
  }
  return { definition: { ...definition, States }, maps };
}

/** Plain reference paths only (`$`, `$.a.b`, `$$.Map.Item.Value`); anything else is refused, never guessed. */
export function readPath(path: string, input: Json, context: Json): Json {
  const match = /^(\$\$?)((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/.exec(path);
  if (!match) throw new InvalidInputError(`local Distributed Map supports plain paths like $.a.b only, got ${path}`);
  let value: Json | undefined = match[1] === '$$' ? context : input;
  for (const field of (match[2] ?? '').split('.').filter(Boolean)) {
    value = value && typeof value === 'object' && !Array.isArray(value) ? value[field] : undefined;
    if (value === undefined)
      throw Object.assign(new Error(`path ${path} names nothing in the state input`), { name: 'States.Runtime' });
  }
  return value as Json;
}

/** A Parameters/ItemSelector template: keys ending in `.$` are paths, the rest literal (nested objects too). */
export function fillTemplate(template: Record<string, Json>, input: Json, context: Json): Record<string, Json> {
  const out: Record<string, Json> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$')) out[key.slice(0, -2)] = readPath(String(value), input, context);
    else
      out[key] =
        value && typeof value === 'object' && !Array.isArray(value) ? fillTemplate(value, input, context) : value;
  }
  return out;
}

export type ChildRunner = (input: Json, name: string) => Promise<Omit<ChildRun, 'name' | 'input'>>;

export interface LocalMapRunOptions {
  store: ArtifactStore;
  stateMachineArn: string;
  runChild: ChildRunner;
  /** The parent's context object (`$$`), to which `Map.Item` is added per item. */
  context?: Record<string, Json>;
  /** Upper bound on children running at once locally, whatever MaxConcurrency says (0 there = unbounded). */
  localConcurrency?: number;
  recordsPerFile?: number;
}

/** Runs one Distributed Map state: ItemReader → one child per item → ResultWriter. Resolves to the Map's output. */
export async function runDistributedMap(
  state: DistributedMapState,
  input: Json,
  options: LocalMapRunOptions,
): Promise<Json> {
  const context = options.context ?? {};
  let items: unknown[];
  if (state.ItemReader) {
    const parameters = fillTemplate(
      state.ItemReader.Parameters,
      input,
      context,
    ) as unknown as ItemReaderSpec['Parameters'];
    items = await readItems(options.store, { ...state.ItemReader, Parameters: parameters });
  } else {
    const selected = state.ItemsPath ? readPath(state.ItemsPath, input, context) : input;
    if (!Array.isArray(selected))
      throw Object.assign(new Error('Map items are not an array'), { name: 'States.Runtime' });
    items = selected;
  }
  const declared = state.MaxConcurrencyPath
    ? Number(readPath(state.MaxConcurrencyPath, input, context))
    : (state.MaxConcurrency ?? 0);
  const local = options.localConcurrency ?? 1000;
  const concurrency = Math.max(1, declared > 0 ? Math.min(declared, local) : local);
  const tolerated =
    state.ToleratedFailureCount ??
    (state.ToleratedFailurePercentage !== undefined
      ? Math.floor((state.ToleratedFailurePercentage / 100) * items.length)
      : 0);
  const children: ChildRun[] = new Array(items.length);
  let failures = 0;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      const value = items[index] as Json;
      const name = String(index);
      const childInput = state.ItemSelector
        ? fillTemplate(state.ItemSelector, input, { ...context, Map: { Item: { Index: index, Value: value } } })
        : value;
      if (failures > tolerated) {
        // The Map Run has failed: AWS starts no more children; they are reported as PENDING.
        const now = new Date();
        children[index] = { name, input: childInput, status: 'PENDING', startedAt: now, stoppedAt: now };
        continue;
      }
      const run = await options.runChild(childInput, name);
      if (run.status !== 'SUCCEEDED') failures++;
      children[index] = { name, input: childInput, ...run };
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(1, items.length)) }, worker));
  let output: Json;
  if (state.ResultWriter) {
    const parameters = fillTemplate(
      state.ResultWriter.Parameters,
      input,
      context,
    ) as unknown as ResultWriterSpec['Parameters'];
    output = (await writeMapRunResults(
      options.store,
      { Resource: state.ResultWriter.Resource, Parameters: parameters },
      options.stateMachineArn,
      state.Label ?? 'Map',
      children,
      options.recordsPerFile,
    )) as unknown as Json;
  } else {
    output = children.map((c) => (c.output ?? null) as Json);
  }
  if (failures > tolerated)
    throw Object.assign(
      new Error(`${failures} of ${items.length} child executions failed, above the ${tolerated} tolerated`),
      { name: 'States.ExceedToleratedFailureThreshold' },
    );
  return output;
}

/** What a child execution's events tell about it, for counting transitions and measuring payloads. */
export interface ChildEvent {
  type: string;
  state?: { name: string; input?: unknown; output?: unknown };
  Error?: string;
  Cause?: unknown;
}

/**
 * Runs children with the interpreter: the Map's own ItemProcessor as a state machine (built once, like the
 * interpreter's inline Map does), with the parent's overrides (local Task handlers, waits, retries).
 */
export function interpreterChildRunner(
  processor: DistributedMapState['ItemProcessor'],
  runOptions: Pick<RunOptions, 'overrides'> & { context?: Record<string, unknown> },
  onEvent?: (child: string, event: ChildEvent) => void,
): ChildRunner {
  const definition = { StartAt: processor.StartAt, States: processor.States } as unknown as StateMachineDefinition;
  const machine = new StateMachine(definition, { validationOptions: { noValidate: true } });
  return async (input, name) => {
    const startedAt = new Date();
    const execution = machine.run(input, runOptions as RunOptions);
    let failure: ChildEvent | undefined;
    const collecting = (async () => {
      for await (const event of execution.eventLogs) {
        const e = event as unknown as ChildEvent;
        if (e.type === 'ExecutionFailed') failure = e;
        onEvent?.(name, e);
      }
    })();
    try {
      const output = await execution.result;
      await collecting;
      return { status: 'SUCCEEDED' as const, output, startedAt, stoppedAt: new Date() };
    } catch (error) {
      await collecting;
      if (!(error instanceof ExecutionError)) throw error;
      const cause = failure?.Cause ?? (error as Error).message;
      return {
        status: 'FAILED' as const,
        error: String(failure?.Error ?? (error.cause as Error | undefined)?.name ?? 'States.TaskFailed'),
        cause: typeof cause === 'string' ? cause : JSON.stringify(cause),
        startedAt,
        stoppedAt: new Date(),
      };
    }
  };
}

/**
 * How a Map state's ItemReader/ResultWriter differ from the shapes AWS documents for a JSON array in S3 and for
 * exporting results to S3 (input-output-itemreader.html, input-output-resultwriter.html). Empty when they match.
 */
export function documentedShapeProblems(name: string, state: DistributedMapState): string[] {
  const problems: string[] = [];
  const mode = state.ItemProcessor?.ProcessorConfig?.Mode;
  if (mode !== 'DISTRIBUTED')
    problems.push(`${name}: ItemReader/ResultWriter need ProcessorConfig.Mode DISTRIBUTED, not ${mode}`);
  const keysOf = (parameters: Record<string, unknown> | undefined) =>
    Object.keys(parameters ?? {})
      .map((k) => k.replace(/\.\$$/, ''))
      .sort()
      .join(',');
  const plainPaths = (parameters: Record<string, unknown> | undefined, field: string) => {
    for (const [k, v] of Object.entries(parameters ?? {}))
      if (k.endsWith('.$') && !/^\$\$?(\.[A-Za-z_][A-Za-z0-9_]*)*$/.test(String(v)))
        problems.push(`${name}: ${field}.Parameters.${k} is not a plain reference path: ${String(v)}`);
  };
  if (state.ItemReader) {
    const r = state.ItemReader;
    if (r.Resource !== S3_GET_OBJECT) problems.push(`${name}: ItemReader.Resource must be ${S3_GET_OBJECT}`);
    if (r.ReaderConfig?.InputType !== 'JSON') problems.push(`${name}: ItemReader.ReaderConfig.InputType must be JSON`);
    if (keysOf(r.Parameters) !== 'Bucket,Key')
      problems.push(`${name}: ItemReader.Parameters must be exactly Bucket and Key`);
    if (state.ItemsPath !== undefined) problems.push(`${name}: ItemsPath and ItemReader exclude each other`);
    plainPaths(r.Parameters, 'ItemReader');
  }
  if (state.ResultWriter) {
    const w = state.ResultWriter;
    if (w.Resource !== S3_PUT_OBJECT) problems.push(`${name}: ResultWriter.Resource must be ${S3_PUT_OBJECT}`);
    if (keysOf(w.Parameters) !== 'Bucket,Prefix')
      problems.push(`${name}: ResultWriter.Parameters must be exactly Bucket and Prefix`);
    plainPaths(w.Parameters, 'ResultWriter');
  }
  return problems;
}
