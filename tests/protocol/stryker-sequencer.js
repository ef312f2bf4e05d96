// The mutation run's test order (jest.stryker.config.js): fast files first, the exhaustive checker last, so that
// with bail a mutant a fast test kills never waits for the checker. Sorted by name within each group (stable).
const Sequencer = require('@jest/test-sequencer').default;
const LAST = /checker\.test\.ts$/;
class StrykerSequencer extends Sequencer {
  sort(tests) {
    const rank = (t) => (LAST.test(t.path) ? 1 : 0);
    return [...tests].sort((a, b) => rank(a) - rank(b) || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  }
}
module.exports = StrykerSequencer;
