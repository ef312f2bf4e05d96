import { CAUSE_LIMIT, failureMessage } from '../../domain/common/failure-message';

describe('failureMessage: the file first, only the cause clipped', () => {
  test('a long cause is clipped, the file and line are kept', () => {
    const cause = `the row does not have the header's 3 fields ${'x'.repeat(5000)}`;
    const message = failureMessage(`a-very-long-file-name-${'n'.repeat(300)}.csv line 3: ${cause}`);
    expect(message.startsWith(`a-very-long-file-name-${'n'.repeat(300)}.csv line 3: the row does not`)).toBe(true);
    expect(message.endsWith('…')).toBe(true);
    expect(message.length).toBe(`a-very-long-file-name-${'n'.repeat(300)}.csv line 3: `.length + CAUSE_LIMIT);
  });

  test('a short message is unchanged', () => {
    expect(failureMessage("a.csv line 3: the row does not have the header's 3 fields")).toBe(
      "a.csv line 3: the row does not have the header's 3 fields",
    );
    expect(failureMessage('3 of 4 rows could not be cast (limit 0.01)')).toBe(
      '3 of 4 rows could not be cast (limit 0.01)',
    );
  });

  test("the script's ValueError is not taken for the file; other exception names are kept", () => {
    expect(failureMessage('ValueError: bin.csv: not valid CSV')).toBe('bin.csv: not valid CSV');
    expect(failureMessage('OutOfMemoryError: Java heap space')).toBe('OutOfMemoryError: Java heap space');
  });

  test('a binary cause (no line break in the where) is clipped; a message without a where is clipped whole', () => {
    const binary = String.fromCharCode(...Array.from({ length: 3000 }, (_, i) => 32 + ((i * 7919) % 200)));
    const message = failureMessage(`bin.csv: ${binary}`);
    expect(message.startsWith('bin.csv: ')).toBe(true);
    expect(message.length).toBe('bin.csv: '.length + CAUSE_LIMIT);
    expect(failureMessage('y'.repeat(500)).length).toBe(CAUSE_LIMIT);
    expect(failureMessage(`first line\nsecond: ${'z'.repeat(500)}`).length).toBe(CAUSE_LIMIT);
  });

  test('the limit can be chosen (a notification carries more)', () => {
    expect(failureMessage(`f.csv: ${'c'.repeat(5000)}`, 4000).length).toBe('f.csv: '.length + 4000);
  });
});
