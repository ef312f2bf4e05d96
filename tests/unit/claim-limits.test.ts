import { defaultClaimLimits, MAX_CLAIM_KEY_BYTES, selectClaimable } from '../../domain/runs/claim-limits';

const pending = (n: number, keyLength = 26, firstAt = (i: number) => i) =>
  Array.from({ length: n }, (_, i) => ({ key: `k${String(i).padStart(keyLength - 1, '0')}`, firstAt: firstAt(i) }));

describe('how much one run claims', () => {
  test('at most 10,000 partitions by default, oldest first; the rest stays for the follow-up', () => {
    const all = pending(12_000, 26, (i) => 12_000 - i); // the last ones arrived first
    const taken = selectClaimable(all, defaultClaimLimits());
    expect(taken).toHaveLength(10_000);
    expect(taken[0]?.firstAt).toBe(1);
    expect(Math.max(...taken.map((p) => p.firstAt))).toBe(10_000);
  });

  test('long keys: the claim record stays within the 400 KB item limit', () => {
    const taken = selectClaimable(pending(10_000, 1000), defaultClaimLimits());
    expect(taken.length).toBeLessThan(10_000);
    expect(taken.reduce((n, p) => n + Buffer.byteLength(p.key) + 3, 0)).toBeLessThanOrEqual(MAX_CLAIM_KEY_BYTES);
  });

  test('never empty while something is pending, even a single key above the byte budget', () => {
    expect(selectClaimable(pending(3, 2000), { maxPartitions: 10, maxKeyBytes: 100 })).toHaveLength(1);
    expect(selectClaimable([], defaultClaimLimits())).toEqual([]);
  });

  test('ties on arrival time are broken by key, so the choice is stable', () => {
    const same = [
      { key: 'b', firstAt: 1 },
      { key: 'a', firstAt: 1 },
      { key: 'c', firstAt: 0 },
    ];
    expect(selectClaimable(same, { maxPartitions: 2, maxKeyBytes: 1000 }).map((p) => p.key)).toEqual(['c', 'a']);
  });
});
