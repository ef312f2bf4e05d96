/**
 * One Ajv instance holding every schema in `schemas/`; steps validate by definition name.
 * Errors name the offending field (`/datasets/0/partitioning/keys/1/pattern must match ...`).
 * Compiling a schema costs tens of ms; the local runtime installs the same validators ready-made (Ajv standalone
 * code, cached across processes by adapters/local/compiled-validators.ts). Lambdas compile on first use.
 */
import Ajv, { type ErrorObject, type Options, type ValidateFunction } from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import addFormats from 'ajv-formats';
import common from '../../schemas/common.schema.json';
import datasetConfig from '../../schemas/dataset-config.schema.json';
import drift from '../../schemas/drift.schema.json';
import executionInput from '../../schemas/execution-input.schema.json';
import s3Event from '../../schemas/s3-object-created-event.schema.json';
import scale from '../../schemas/scale.schema.json';
import steps from '../../schemas/steps.schema.json';
import waits from '../../schemas/waits.schema.json';
import { InvalidInputError, type SluiceError } from './errors';

const SCHEMAS = { common, datasetConfig, executionInput, s3Event, steps, scale, waits, drift } as const;
const BASE = 'https://schemas.sluice.dev/';

/** Each shape is addressed as `file#Definition` or by a root schema's file. */
const ROOTS = {
  SluiceConfig: 'dataset-config.schema.json',
  ExecutionInput: 'execution-input.schema.json',
  S3ObjectCreatedEvent: 's3-object-created-event.schema.json',
} as const;

export type SchemaName =
  | keyof typeof ROOTS
  | keyof (typeof executionInput)['definitions']
  | keyof (typeof steps)['definitions']
  | keyof (typeof scale)['definitions']
  | keyof (typeof waits)['definitions']
  | keyof (typeof drift)['definitions'];

/** The file that defines a named (non-root) shape. */
function fileDefining(name: string): string {
  if (name in executionInput.definitions) return 'execution-input';
  if (name in scale.definitions) return 'scale';
  if (name in waits.definitions) return 'waits';
  if (name in drift.definitions) return 'drift';
  return 'steps';
}

/** Every name `validatorFor` accepts: the roots, then each file's definitions. */
export const SCHEMA_NAMES: readonly SchemaName[] = [
  ...new Set([
    ...Object.keys(ROOTS),
    ...Object.keys(executionInput.definitions),
    ...Object.keys(steps.definitions),
    ...Object.keys(scale.definitions),
    ...Object.keys(waits.definitions),
    ...Object.keys(drift.definitions),
  ]),
] as SchemaName[];

const OPTIONS: Options = { allErrors: true, useDefaults: true, strict: false };

function ajvWithEverySchema(extra: Options = {}): Ajv {
  const instance = new Ajv({ ...OPTIONS, ...extra });
  // Also sets code.formats to ajv-formats' fullFormats, so standalone code requires the same format functions.
  addFormats(instance);
  for (const schema of Object.values(SCHEMAS)) instance.addSchema(schema);
  return instance;
}

/**
 * Built on the first name that has no ready validator: adding the schemas compiles Ajv's meta-schema (50-90 ms),
 * a cost a process that got every validator from installValidators never pays.
 */
let ajv: Ajv | undefined;

const compiled = new Map<string, ValidateFunction>();

function refOf(name: SchemaName): string {
  return name in ROOTS
    ? BASE + ROOTS[name as keyof typeof ROOTS]
    : `${BASE}${fileDefining(name)}.schema.json#/definitions/${name}`;
}

export function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    ajv ??= ajvWithEverySchema();
    validate = ajv.getSchema(refOf(name));
    if (!validate) throw new Error(`no schema named ${name}`);
    compiled.set(name, validate);
  }
  return validate;
}

/**
 * Everything the generated validators depend on besides the Ajv and ajv-formats code: the options and every
 * schema. Code made from one fingerprint is valid only for that fingerprint (and the same package versions).
 */
export function validatorsFingerprint(): string {
  return JSON.stringify({ options: OPTIONS, base: BASE, roots: ROOTS, schemas: SCHEMAS });
}

/**
 * A CommonJS module exporting one validate function per name: Ajv's standalone code, the same functions that
 * `validatorFor` compiles (same options, so defaults, allErrors and the errors array are alike). It requires
 * only Ajv's runtime helpers and ajv-formats' formats. https://ajv.js.org/standalone.html
 */
export function standaloneSource(names: readonly SchemaName[] = SCHEMA_NAMES): string {
  const generator = ajvWithEverySchema({ code: { source: true } });
  return standaloneCode(generator, Object.fromEntries(names.map((name) => [name, refOf(name)])));
}

/** Validators compiled elsewhere (e.g. loaded from standaloneSource's code): validatorFor returns them as they are. */
export function installValidators(validators: Partial<Record<SchemaName, ValidateFunction>>): void {
  for (const [name, validate] of Object.entries(validators)) if (validate) compiled.set(name, validate);
}

export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  if (!errors || errors.length === 0) return 'unknown validation error';
  // oneOf failures repeat every branch's complaint; the shortest list of distinct messages reads best.
  const lines = new Set(
    errors
      .filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if')
      .map((e) => {
        const where = e.instancePath === '' ? '(root)' : e.instancePath;
        const extra =
          e.keyword === 'additionalProperties'
            ? ` '${String((e.params as { additionalProperty: string }).additionalProperty)}'`
            : e.keyword === 'enum'
              ? `: ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
              : '';
        return `${where} ${e.message ?? 'is invalid'}${extra}`;
      }),
  );
  return [...lines].slice(0, 8).join('; ');
}

/**
 * Validates (and fills schema defaults into) `value`. Throws the given error class, naming every bad field.
 */
export function validate<T>(
  name: SchemaName,
  value: unknown,
  what: string,
  ErrorClass: new (message: string) => SluiceError = InvalidInputError,
): T {
  const check = validatorFor(name);
  if (!check(value)) throw new ErrorClass(`${what} is invalid: ${describeErrors(check.errors)}`);
  return value as T;
}
