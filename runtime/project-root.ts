import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The project's root folder: the nearest folder above this code that holds the state machine's definition. The
 * same code runs from its source (runtime/, cli/) and from `npm start`'s bundle (.sluice/build/), which sit at
 * different depths, so the root is found rather than counted.
 */
export function findProjectRoot(from: string = __dirname): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'state-machines', 'sluice.asl.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`no sluice project (state-machines/sluice.asl.json) above ${from}`);
  }
}

export const PROJECT_ROOT = findProjectRoot();
