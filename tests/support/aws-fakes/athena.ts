/**
 * Athena (awsJson1_1, X-Amz-Target AmazonAthena.<Operation>). StartQueryExecution is idempotent on
 * ClientRequestToken as Athena documents: the same token returns the earlier query, whatever its state.
 */
import { AwsFault, epochSeconds, type Body, type FakeAwsServer, type JsonValue } from './server';

export interface QueryOutcome {
  state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED';
  reason?: string;
}
interface Query {
  id: string;
  sql: string;
  token: string;
  state: string;
  reason?: string;
  submitted: number;
  pollsLeft: number;
}

export class FakeAthena {
  readonly queries: Query[] = [];
  queryOutcome: (sql: string) => QueryOutcome = () => ({ state: 'SUCCEEDED' });
  pollsUntilDone = 1;

  constructor(private readonly now: () => Date = () => new Date()) {}

  reset(): void {
    this.queries.length = 0;
    this.queryOutcome = () => ({ state: 'SUCCEEDED' });
    this.pollsUntilDone = 1;
  }

  register(server: FakeAwsServer): void {
    server.register({
      name: 'athena',
      protocol: 'awsJson1_1',
      targetPrefix: 'AmazonAthena',
      operations: {
        StartQueryExecution: (b) => this.start(b),
        GetQueryExecution: (b) => this.get(b),
      },
    });
  }

  private start({ QueryString, ClientRequestToken }: Body): JsonValue {
    // ClientRequestToken: length 32..128 (Athena API reference, StartQueryExecution).
    if (typeof ClientRequestToken !== 'string' || ClientRequestToken.length < 32 || ClientRequestToken.length > 128)
      throw new AwsFault('InvalidRequestException', 'ClientRequestToken must be 32 to 128 characters', 400, {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    const earlier = this.queries.find((q) => q.token === ClientRequestToken);
    if (earlier) return { QueryExecutionId: earlier.id };
    const query: Query = {
      id: `q-${this.queries.length + 1}-0000-0000-000000000000`,
      sql: String(QueryString),
      token: ClientRequestToken,
      state: 'RUNNING',
      submitted: epochSeconds(this.now()),
      pollsLeft: this.pollsUntilDone,
    };
    this.queries.push(query);
    return { QueryExecutionId: query.id };
  }

  private get({ QueryExecutionId }: Body): JsonValue {
    const query = this.queries.find((q) => q.id === QueryExecutionId);
    if (!query)
      throw new AwsFault('InvalidRequestException', `QueryExecution ${QueryExecutionId} was not found`, 400, {
        AthenaErrorCode: 'INVALID_INPUT',
      });
    if (query.state === 'RUNNING' && query.pollsLeft-- <= 0) {
      const outcome = this.queryOutcome(query.sql);
      query.state = outcome.state;
      if (outcome.reason) query.reason = outcome.reason;
    }
    const status: Record<string, JsonValue> = { State: query.state, SubmissionDateTime: query.submitted };
    if (query.reason) status.StateChangeReason = query.reason;
    return { QueryExecution: { QueryExecutionId: query.id, Query: query.sql, Status: status } };
  }
}
