/**
 * In-memory debounce ledger and run lease: same contract as the DynamoDB adapters, for one process
 * (the local runtime and the unit/state-machine tests).
 */
import { selectClaimable, type ClaimLimits } from '../../domain/claim-limits';
import type { Arrival, ArrivalLedger, Clock, Lease, PendingSummary, RunLeaseStore } from '../../domain/ports';

interface Pending {
  firstAt: number;
  lastAt: number;
  count: number;
}

export class MemoryArrivalLedger implements ArrivalLedger {
  private readonly pending = new Map<string, Map<string, Pending>>();
  private readonly seen = new Set<string>();
  private readonly openClaims = new Map<string, { partitions: Set<string>; firstAt: number; lastAt: number }>();
  readonly claims: Array<{ dataset: string; executionArn: string; partitions: string[] }> = [];

  constructor(private readonly clock: Clock) {}

  /** The recorded event ids, so a local lake can remember across processes what it already took in. */
  exportSeen(): string[] {
    return [...this.seen];
  }

  importSeen(ids: string[]): void {
    for (const id of ids) this.seen.add(id);
  }

  async recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }> {
    const id = `${arrival.objectKey}\n${arrival.sequencer}`;
    if (this.seen.has(id)) return { duplicate: true };
    const at = this.clock.now().getTime();
    const byPartition = this.pending.get(arrival.dataset) ?? new Map<string, Pending>();
    const current = byPartition.get(arrival.partitionKey);
    byPartition.set(arrival.partitionKey, {
      firstAt: current?.firstAt ?? at,
      lastAt: at,
      count: (current?.count ?? 0) + 1,
    });
    this.pending.set(arrival.dataset, byPartition);
    this.seen.add(id);
    return { duplicate: false };
  }

  async pendingSummary(dataset: string): Promise<PendingSummary | null> {
    const byPartition = this.pending.get(dataset);
    if (!byPartition || byPartition.size === 0) return null;
    const all = [...byPartition.values()];
    return {
      partitions: all.length,
      firstArrivalAt: new Date(Math.min(...all.map((p) => p.firstAt))).toISOString(),
      lastArrivalAt: new Date(Math.max(...all.map((p) => p.lastAt))).toISOString(),
    };
  }

  async claimPending(dataset: string, executionArn: string, _now?: Date, limits?: ClaimLimits): Promise<string[]> {
    const id = `${dataset}\n${executionArn}`;
    const byPartition = this.pending.get(dataset) ?? new Map<string, Pending>();
    const held = this.openClaims.get(id);
    // Under the claim limits, as the DynamoDB adapter: a first claim takes the oldest within them, a retried
    // one (its claim is atomic here, so it holds nothing still pending) takes nothing new.
    const taken = !limits
      ? [...byPartition.entries()]
      : held && held.partitions.size > 0
        ? []
        : selectClaimable(
            [...byPartition.entries()].map(([key, p]) => ({ key, firstAt: p.firstAt, entry: [key, p] as const })),
            limits,
          ).map((c) => c.entry);
    for (const [partition] of taken) byPartition.delete(partition);
    if (byPartition.size === 0) this.pending.delete(dataset);
    // Merges into the execution's open claim, so a retried claim step returns everything it holds.
    const open = held ?? { partitions: new Set<string>(), firstAt: Infinity, lastAt: 0 };
    for (const [partition, p] of taken) {
      open.partitions.add(partition);
      open.firstAt = Math.min(open.firstAt, p.firstAt);
      open.lastAt = Math.max(open.lastAt, p.lastAt);
    }
    if (open.partitions.size > 0) this.openClaims.set(id, open);
    const partitions = [...open.partitions].sort();
    if (taken.length > 0) this.claims.push({ dataset, executionArn, partitions });
    return partitions;
  }

  async claimOwners(dataset: string): Promise<string[]> {
    return [...this.openClaims.keys()]
      .filter((id) => id.startsWith(`${dataset}\n`))
      .map((id) => id.slice(dataset.length + 1));
  }

  async returnClaim(dataset: string, executionArn: string, keep: readonly string[] = []): Promise<string[]> {
    const open = this.openClaims.get(`${dataset}\n${executionArn}`);
    if (!open) return [];
    const back = [...open.partitions].filter((p) => !keep.includes(p)).sort();
    const byPartition = this.pending.get(dataset) ?? new Map<string, Pending>();
    for (const p of back) {
      const current = byPartition.get(p);
      byPartition.set(p, {
        firstAt: current?.firstAt ?? open.firstAt,
        lastAt: current?.lastAt ?? open.lastAt,
        count: (current?.count ?? 0) + 1,
      });
    }
    if (byPartition.size > 0) this.pending.set(dataset, byPartition);
    await this.forgetClaim(dataset, executionArn);
    return back;
  }

  async forgetClaim(dataset: string, executionArn: string): Promise<void> {
    this.openClaims.delete(`${dataset}\n${executionArn}`);
  }
}

export class MemoryRunLeases implements RunLeaseStore {
  private readonly leases = new Map<string, { owner: string; expiresAt: number }>();

  async acquire(dataset: string, owner: string, now: Date, leaseSeconds: number, replacing?: string): Promise<boolean> {
    const lease = this.leases.get(dataset);
    if (lease && lease.owner !== owner && lease.owner !== replacing && lease.expiresAt >= now.getTime()) return false;
    this.leases.set(dataset, { owner, expiresAt: now.getTime() + leaseSeconds * 1000 });
    return true;
  }

  async release(dataset: string, owner: string, expiresAt?: Date): Promise<boolean> {
    const lease = this.leases.get(dataset);
    if (lease?.owner !== owner || (expiresAt && lease.expiresAt !== expiresAt.getTime())) return false;
    this.leases.delete(dataset);
    return true;
  }

  async current(dataset: string): Promise<Lease | null> {
    const lease = this.leases.get(dataset);
    return lease ? { owner: lease.owner, expiresAt: new Date(lease.expiresAt).toISOString() } : null;
  }
}
