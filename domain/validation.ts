/**
 * One Ajv instance holding every schema in `schemas/`; steps validate by definition name.
 * Errors name the offending field (`/datasets/0/partitioning/keys/1/pattern must match ...`).
 */
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import common from '../schemas/common.schema.json';
import datasetConfig from '../schemas/dataset-config.schema.json';
import executionInput from '../schemas/execution-input.schema.json';
import s3Event from '../schemas/s3-object-created-event.schema.json';
import scale from '../schemas/scale.schema.json';
import steps from '../schemas/steps.schema.json';
import waits from '../schemas/waits.schema.json';
import { InvalidInputError, type SluiceError } from './errors';

const SCHEMAS = { common, datasetConfig, executionInput, s3Event, steps, scale, waits } as const;
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
  | keyof (typeof waits)['definitions'];

/** The file that defines a named (non-root) shape. */
function fileDefining(name: string): string {
  if (name in executionInput.definitions) return 'execution-input';
  if (name in scale.definitions) return 'scale';
  if (name in waits.definitions) return 'waits';
  return 'steps';
}

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
addFormats(ajv);
for (const schema of Object.values(SCHEMAS)) ajv.addSchema(schema);

const compiled = new Map<string, ValidateFunction>();

export function validatorFor(name: SchemaName): ValidateFunction {
  let validate = compiled.get(name);
  if (!validate) {
    const ref =
      name in ROOTS
        ? BASE + ROOTS[name as keyof typeof ROOTS]
        : `${BASE}${fileDefining(name)}.schema.json#/definitions/${name}`;
    validate = ajv.getSchema(ref);
    if (!validate) throw new Error(`no schema named ${name}`);
    compiled.set(name, validate);
  }
  return validate;
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
