/**
 * The project-local Python environment that scripts/setup-test-env.sh creates (`npm test` runs it first):
 * pyspark for the Glue script, moto's DynamoDB server, cfn-lint. Tests name its tools through here, never
 * through PATH, so a tool installed by hand on one machine cannot hide a missing install step.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const PROJECT_ROOT = resolve(__dirname, '..', '..');
export const VENV_DIR = join(PROJECT_ROOT, '.venv');

/** The path of a program installed in the project's virtual environment. */
export function venvBin(program: string): string {
  const path = join(VENV_DIR, 'bin', program);
  if (!existsSync(path))
    throw new Error(`${path} is missing: run \`bash scripts/setup-test-env.sh\` (npm test does it first)`);
  return path;
}
