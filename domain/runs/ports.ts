/**
 * The run protocol's ports (docs/protocol.md): the arrival ledger, the run lease and the execution starter, and
 * the dependencies the protocol's cores take.
 */
import type { ExecutionInput } from '../../schemas/types.generated';
import type { Clock } from '../common';
import type { ResolvedConfig } from '../config';
import type { ClaimLimits } from './claim-limits';

export interface Arrival {
  dataset: string;
  partitionKey: string;
  objectKey: string;
  /** S3's per-key sequencer: key + sequencer identifies one object event, whatever the delivery count. */
  sequencer: string;
  size: number;
  arrivedAt: string;
}

export interface PendingSummary {
  partitions: number;
  firstArrivalAt: string;
  lastArrivalAt: string;
}

/**
 * The debounce store: pending partitions per dataset, and the claims of the runs working on them.
 *
 * A claim belongs to one execution and is findable by dataset (no pointer from the lease is needed). Only the
 * holder of the dataset's run lease claims, or returns someone else's claim; a claim lives until its owner's last
 * step forgets it (processed or named in a notification) or a later lease holder returns it to pending. Claims
 * never expire on their own.
 */
export interface ArrivalLedger {
  /** Records one object event; `duplicate` when this key + sequencer was recorded before. */
  recordArrival(arrival: Arrival): Promise<{ duplicate: boolean }>;
  pendingSummary(dataset: string): Promise<PendingSummary | null>;
  /**
   * Moves every pending partition of the dataset into the claim of `executionArn` and returns the whole claim.
   * Idempotent: a retry after a partial or lost attempt merges into the same claim and returns all of it.
   * An arrival recorded before the claim is in it; one recorded after stays pending for the next run.
   * With `limits` (issue 12), a first claim takes only the oldest pending partitions within them, and a retried
   * claim (its record already holds partitions) only finishes taking its own: the rest stays pending.
   */
  claimPending(dataset: string, executionArn: string, now: Date, limits?: ClaimLimits): Promise<string[]>;
  /** Owners of the dataset's claim records (live or not). */
  claimOwners(dataset: string): Promise<string[]>;
  /**
   * Puts an execution's claim back to pending, except the partitions in `keep` (processed, or named in a
   * notification), and forgets the claim. Returns what went back. Callers hold the run lease (`options.holder`,
   * by default the claim's owner; checked in each write). Resumable: it works in chunks that each leave the claim
   * as they are re-opened, and when its time budget runs out it throws a retryable error; the retry goes on with
   * what is left.
   */
  returnClaim(
    dataset: string,
    executionArn: string,
    keep?: readonly string[],
    options?: ReturnClaimOptions,
  ): Promise<string[]>;
  /** Forgets the record of a claim that its run has dealt with. */
  forgetClaim(dataset: string, executionArn: string): Promise<void>;
}

export interface ReturnClaimOptions {
  /** The lease holder doing the return (another run's claim is returned only by the holder). */
  holder?: string;
  /** Stop starting new chunks after this long (then throw a retryable error). */
  budgetMs?: number;
}

/** What a start-up lease says it is for: the execution to start, so anyone can re-issue the same StartExecution. */
export interface StartIntent {
  name: string;
  input: ExecutionInput;
}

export interface Lease {
  owner: string;
  expiresAt: string;
  /** The dataset's arrival counter (bumped with every recorded arrival): a give-back is conditional on it. */
  arrivals?: number;
  /** Present while the lease is a start-up lease: its execution may not have been started yet. */
  starting?: StartIntent;
}

/** One run per dataset: a lease with an owner and an expiry that is checked inside the conditional write. */
export interface RunLeaseStore {
  /**
   * Takes the lease if it is free, expired, already `owner`'s (then extends it), or held by `replacing` (an
   * execution known to be dead, or the caller handing its own lease on). With `starting`, it is a start-up lease
   * that names the execution to start; without, any start-up intent is dropped (the execution has started).
   */
  acquire(
    dataset: string,
    owner: string,
    now: Date,
    leaseSeconds: number,
    replacing?: string,
    starting?: StartIntent,
  ): Promise<boolean>;
  /**
   * Releases only if `owner` holds it and, when `expiresAt` is given, only if the lease still ends then (a
   * start-up lease whose execution has made it its run lease is not given back), and when `arrivals` is given,
   * only if no arrival was recorded since the counter read that value.
   */
  release(dataset: string, owner: string, expiresAt?: Date, arrivals?: number): Promise<boolean>;
  current(dataset: string): Promise<Lease | null>;
}

export interface ExecutionStarter {
  /** Names the execution so its ARN is known before it starts (the lease owner). */
  executionArnFor(name: string): string;
  startExecution(name: string, input: ExecutionInput): Promise<string>;
}

/** What the run protocol's cores need (a subset of domain/deps.ts's Deps). */
export interface RunDeps {
  config: ResolvedConfig;
  clock: Clock;
  arrivals: ArrivalLedger;
  leases: RunLeaseStore;
  executions: ExecutionStarter;
}
