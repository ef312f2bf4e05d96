/**
 * Validation for schemas/waits.schema.json. domain/validation.ts addresses steps.schema.json only; until the
 * waits are registered there (phase 2 of issue 13), this holds one Ajv instance with the same options and the same
 * error wording (describeErrors), so a bad event or payload is refused the same way.
 */
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import common from '../schemas/common.schema.json';
import steps from '../schemas/steps.schema.json';
import waits from '../schemas/waits.schema.json';
import { InvalidInputError, type SluiceError } from './errors';
import { describeErrors } from './validation';

export type WaitSchemaName = keyof (typeof waits)['definitions'];

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
addFormats(ajv);
for (const schema of [common, steps, waits]) ajv.addSchema(schema);

const compiled = new Map<string, ValidateFunction>();

function validatorFor(name: WaitSchemaName): ValidateFunction {
  let check = compiled.get(name);
  if (!check) {
    check = ajv.getSchema(`https://schemas.sluice.dev/waits.schema.json#/definitions/${name}`);
    if (!check) throw new Error(`no wait schema named ${name}`);
    compiled.set(name, check);
  }
  return check;
}

export function validateWait<T>(
  name: WaitSchemaName,
  value: unknown,
  what: string,
  ErrorClass: new (message: string) => SluiceError = InvalidInputError,
): T {
  const check = validatorFor(name);
  if (!check(value)) throw new ErrorClass(`${what} is invalid: ${describeErrors(check.errors)}`);
  return value as T;
}
