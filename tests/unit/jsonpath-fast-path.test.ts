import fc from 'fast-check';
import { installJsonPathFastPath, simplePathValue } from '../../adapters/local/jsonpath-fast-path';

type JsonPathFunction = (options: { path: string; json: unknown; wrap: false }) => unknown;

// A private copy of jsonpath-plus: the reference answers come from the library itself, never from the shortcut.
function freshJsonPathPlus(): { JSONPath: JsonPathFunction } {
  let loaded: { JSONPath: JsonPathFunction } | undefined;
  jest.isolateModules(() => {
    loaded = jest.requireActual<{ JSONPath: JsonPathFunction }>('jsonpath-plus');
  });
  if (!loaded) throw new Error('jsonpath-plus did not load');
  return loaded;
}

const reference = freshJsonPathPlus().JSONPath;
const shortcut = (() => {
  const module = freshJsonPathPlus();
  installJsonPathFastPath(module as never);
  return module.JSONPath;
})();

/** What the library answers, or the error it throws (by message). */
function outcome(run: () => unknown): { value: unknown } | { error: string } {
  try {
    return { value: run() };
  } catch (error) {
    return { error: (error as Error).message };
  }
}

const key = fc.constantFrom('a', 'b', 'dataset', 'length', 'job', 'x_1', '0', 'constructor', '__proto__');
const doc = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.integer(),
    fc.string({ maxLength: 4 }),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value;
const path = fc
  .array(fc.oneof(key, fc.constantFrom('*', '[0]', '..', 'a b', '$')), { maxLength: 4 })
  .map((parts) => `$${parts.map((p) => `.${p}`).join('')}`);

describe('the JSONPath shortcut of the local interpreter', () => {
  it('answers exactly as jsonpath-plus, for any document and path the interpreter could pass', () => {
    fc.assert(
      fc.property(doc, path, (json, p) => {
        const options = () => ({ path: p, json, wrap: false as const });
        expect(outcome(() => shortcut(options()))).toEqual(outcome(() => reference(options())));
      }),
      { numRuns: 3000 },
    );
  });

  it('answers the ASL’s own paths without jsonpath-plus, and leaves the rest to it', () => {
    const miss = Symbol('miss');
    const input = { dataset: 'orders', job: { done: true, runId: 'jr_1' }, list: [1, 2], name: 'abc' };
    expect(simplePathValue('$', input, miss)).toBe(input);
    expect(simplePathValue('$.job.done', input, miss)).toBe(true);
    expect(simplePathValue('$.job', input, miss)).toBe(input.job);
    // jsonpath-plus finds an array's or a string's own `length`; the shortcut never decides those.
    expect(simplePathValue('$.list.length', input, miss)).toBe(miss);
    expect(simplePathValue('$.name.length', input, miss)).toBe(miss);
    expect(simplePathValue('$.missing', input, miss)).toBe(miss);
    expect(simplePathValue('$.list[0]', input, miss)).toBe(miss);
    expect(simplePathValue('$.job.*', input, miss)).toBe(miss);
    expect(simplePathValue('$.dataset', [input], miss)).toBe(miss);
  });

  it('is what the interpreter calls once the local state machine runner is loaded', () => {
    jest.isolateModules(() => {
      jest.requireActual('../../runtime/state-machine');
      const loaded = jest.requireActual<{ JSONPath: unknown }>('jsonpath-plus');
      expect(loaded.JSONPath).toHaveProperty([Symbol.for('sluice.jsonpath-fast-path')], true);
    });
  });
});
