/**
 * A shortcut for the one kind of JSONPath the ASL uses on every state: `$`, `$.a.b` (plain member names). The
 * interpreter (aws-local-stepfunctions) evaluates each with jsonpath-plus `JSONPath({ path, json, wrap: false })`,
 * which throws and catches an Error for every scalar result (its `NewError`, to unwrap the value): at 1,000
 * partitions that is about 0.2 s of stack captures and 0.5 s of evaluation on the local runtime's one thread
 * (issue 14 profile).
 *
 * The shortcut answers only when the answer is certain to be jsonpath-plus's own: every step of the path is an own
 * property of a plain object (not an array, not a string, whose `length` jsonpath-plus would also find). Anything
 * else (a missing member, filters, wildcards, brackets, other options) goes to jsonpath-plus unchanged, so its
 * errors and edge cases stay its own. tests/unit/jsonpath-fast-path.test.ts compares both on generated documents.
 *
 * The interpreter reads `require("jsonpath-plus").JSONPath` at each call (esbuild's CommonJS output), so replacing
 * that export is enough, in the tsx run and in the `npm start` bundle alike.
 */

type JsonPathFunction = ((...args: unknown[]) => unknown) & { prototype: object };

interface JsonPathModule {
  JSONPath: JsonPathFunction & { [FAST]?: true };
}

const FAST = Symbol.for('sluice.jsonpath-fast-path');
const SIMPLE_PATH = /^\$((?:\.[A-Za-z_][A-Za-z0-9_]*)*)$/;
const segmentsByPath = new Map<string, readonly string[] | null>();

function segmentsOf(path: string): readonly string[] | null {
  let segments = segmentsByPath.get(path);
  if (segments === undefined) {
    const match = SIMPLE_PATH.exec(path);
    segments = match ? (match[1] ?? '').split('.').slice(1) : null;
    if (segmentsByPath.size < 10_000) segmentsByPath.set(path, segments);
  }
  return segments;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** The value at a simple path, or `miss` when jsonpath-plus must decide. */
export function simplePathValue(path: string, json: unknown, miss: unknown): unknown {
  const segments = segmentsOf(path);
  if (segments === null || !isPlainObject(json)) return miss;
  let value: unknown = json;
  for (const segment of segments) {
    if (!isPlainObject(value) || !Object.hasOwn(value, segment)) return miss;
    value = value[segment];
  }
  return value;
}

/** Options exactly as the interpreter passes them: `{ path, json, wrap: false }`. */
function isInterpreterCall(args: unknown[]): args is [{ path: string; json: unknown; wrap: false }] {
  if (args.length !== 1 || !isPlainObject(args[0])) return false;
  const options = args[0];
  return (
    typeof options.path === 'string' &&
    options.wrap === false &&
    Object.hasOwn(options, 'json') &&
    Object.keys(options).length === 3
  );
}

/** Installs the shortcut on a loaded jsonpath-plus module (idempotent). */
export function installJsonPathFastPath(module: JsonPathModule): void {
  const original = module.JSONPath;
  if (original[FAST]) return;
  const miss = Symbol('miss');
  function JSONPath(this: unknown, ...args: unknown[]): unknown {
    if (new.target === undefined && isInterpreterCall(args)) {
      const value = simplePathValue(args[0].path, args[0].json, miss);
      if (value !== miss) return value;
    }
    return new.target ? Reflect.construct(original, args, new.target) : original.apply(this, args);
  }
  Object.assign(JSONPath, original, { [FAST]: true });
  JSONPath.prototype = original.prototype;
  module.JSONPath = JSONPath as unknown as JsonPathModule['JSONPath'];
}
