import {
  AthenaQueryFailedError,
  AwsThrottledError,
  ConcurrentRunsExceededError,
  GlueEntityNotFoundError,
} from '../../domain/common';

const TRANSIENT = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServiceException',
  'InternalServerException',
  'InternalServerError',
  'InternalFailure',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'OperationTimeoutException',
  'TimeoutError',
  // Connection-level failures. Node's http client rejects with a plain Error whose `code` names them (the SDK's
  // NodeHttpHandler passes it on after its own retries; its name is just "Error"), so they are matched by code
  // below as well: https://nodejs.org/api/errors.html#common-system-errors (ECONNREFUSED, ECONNRESET, EPIPE,
  // ETIMEDOUT; EAI_AGAIN is getaddrinfo's temporary DNS failure).
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  // S3's own codes, which its model does not mark retryable: SlowDown (503), InternalError (500), RequestTimeout (400)
  // https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
  'SlowDown',
  'InternalError',
  'RequestTimeout',
]);

/** Maps an AWS SDK error onto sluice's named errors, which the ASL Retry/Catch clauses know. */
export function mapAwsError(error: unknown, call: string): Error {
  const e = error as { name?: string; code?: string; message?: string; $retryable?: unknown };
  const name = e?.name ?? 'Error';
  const code = typeof e?.code === 'string' ? e.code : undefined;
  const message = `${call}: ${name}: ${e?.message ?? String(error)}`;
  if (name === 'ConcurrentRunsExceededException') return new ConcurrentRunsExceededError(message, { cause: error });
  if (name === 'EntityNotFoundException') return new GlueEntityNotFoundError(message, { cause: error });
  if (TRANSIENT.has(name) || (code && TRANSIENT.has(code)) || e?.$retryable)
    return new AwsThrottledError(code ? `${message} (${code})` : message, { cause: error });
  if (call.startsWith('Athena') && name === 'InvalidRequestException')
    return new AthenaQueryFailedError(message, { cause: error });
  return error instanceof Error ? error : new Error(message);
}

export async function call<T>(name: string, send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw mapAwsError(error, name);
  }
}
