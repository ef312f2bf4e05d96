/**
 * A simulated Athena for the registration tests and bench (issue 23): queries by id and ClientRequestToken, the
 * active (QUEUED or RUNNING) count, and the account's Active DDL queries quota, past which StartQueryExecution
 * answers TooManyRequestsException ("A DML or DDL query quota includes both running and queued queries":
 * https://docs.aws.amazon.com/athena/latest/ug/service-limits.html). Plug it into aws-sdk-client-mock.
 */
import type { GetQueryExecutionCommandInput, StartQueryExecutionCommandInput } from '@aws-sdk/client-athena';
import type { PartitionValues } from '../../schemas/types.generated';

/** Athena's side: queries by id and token, the active count, and the account quota (queued ones count). */
export class AthenaSim {
  readonly queries = new Map<string, { state: 'RUNNING' | 'SUCCEEDED'; sql: string }>();
  private readonly byToken = new Map<string, string>();
  /** DDL of others (people, tools) in the same account. */
  othersActive = 0;
  maxActive = 0;
  refused = 0;
  readonly gets: string[] = [];
  constructor(readonly quota: number) {}

  active(): number {
    return [...this.queries.values()].filter((q) => q.state === 'RUNNING').length;
  }

  start(input: StartQueryExecutionCommandInput) {
    const earlier = this.byToken.get(input.ClientRequestToken ?? '');
    if (earlier) return { QueryExecutionId: earlier };
    if (this.active() + this.othersActive >= this.quota) {
      this.refused += 1;
      throw Object.assign(new Error('Too many active DDL queries'), { name: 'TooManyRequestsException' });
    }
    const id = `q-${this.queries.size + 1}`;
    this.queries.set(id, { state: 'RUNNING', sql: input.QueryString ?? '' });
    this.byToken.set(input.ClientRequestToken ?? '', id);
    this.maxActive = Math.max(this.maxActive, this.active());
    return { QueryExecutionId: id };
  }

  get(input: GetQueryExecutionCommandInput) {
    const id = input.QueryExecutionId ?? '';
    this.gets.push(id);
    return { QueryExecution: { QueryExecutionId: id, Status: { State: this.queries.get(id)?.state ?? 'FAILED' } } };
  }

  finish(id: string): void {
    this.queries.get(id)!.state = 'SUCCEEDED';
  }

  registeredPartitions(): number {
    return [...this.queries.values()].reduce((n, q) => n + (q.sql.match(/PARTITION \(/g)?.length ?? 0), 0);
  }
}

/** `count` distinct orders partitions (year/month/day). */
export function partitions(count: number): PartitionValues[] {
  const out: PartitionValues[] = [];
  for (let year = 1900; out.length < count; year += 1)
    for (let month = 1; month <= 12 && out.length < count; month += 1)
      for (let day = 1; day <= 28 && out.length < count; day += 1)
        out.push({ year: String(year), month: String(month).padStart(2, '0'), day: String(day).padStart(2, '0') });
  return out;
}
