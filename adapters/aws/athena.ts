import { GetQueryExecutionCommand, StartQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import type { QueryPort, QueryStateName } from '../../domain/common';
import { call } from './errors';

export class AthenaQueries implements QueryPort {
  constructor(private readonly athena: AthenaClient) {}

  async startQuery(query: { sql: string; database: string; workgroup: string; clientRequestToken: string }) {
    const { QueryExecutionId } = await call('Athena StartQueryExecution', () =>
      this.athena.send(
        new StartQueryExecutionCommand({
          QueryString: query.sql,
          QueryExecutionContext: { Database: query.database },
          WorkGroup: query.workgroup,
          ClientRequestToken: query.clientRequestToken,
        }),
      ),
    );
    if (!QueryExecutionId) throw new Error('Athena StartQueryExecution returned no QueryExecutionId');
    return QueryExecutionId;
  }

  async getQuery(queryExecutionId: string): Promise<{ state: QueryStateName; reason?: string }> {
    const { QueryExecution } = await call('Athena GetQueryExecution', () =>
      this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryExecutionId })),
    );
    const state = (QueryExecution?.Status?.State ?? 'QUEUED') as QueryStateName;
    const reason = QueryExecution?.Status?.StateChangeReason;
    return reason ? { state, reason } : { state };
  }
}
