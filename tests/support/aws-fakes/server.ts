/**
 * One loopback HTTP server that answers the AWS SDK v3 in each service's wire protocol, so the packaged bundles'
 * real clients (serializers, retry strategy, error parsing) run unchanged: point AWS_ENDPOINT_URL_<SERVICE> here.
 * - awsJson1_1 (Glue, Athena) and awsJson1_0 (Step Functions, SQS): POST /, X-Amz-Target `<Prefix>.<Operation>`,
 *   errors as `{"__type": code, "message": ...}` with X-Amzn-ErrorType (as in aws-sdk-js-v3's protocol tests).
 * - awsQuery (SNS): form-encoded `Action=...`, XML answers, errors as <ErrorResponse><Error><Code>.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- request bodies are whatever the SDK serialised; each operation reads its own fields
export type Body = Record<string, any>;

/** An AWS error as the service sends it. */
export class AwsFault extends Error {
  override readonly name = 'AwsFault';
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
    readonly extra: Record<string, JsonValue> = {},
  ) {
    super(message);
  }
}

/**
 * `hang`: the request is never answered nor processed. `lost-answer`: the service does the work, but the answer never
 * arrives (the caller times out after, say, Glue started the run).
 */
export type Fault = { kind: 'error'; fault: () => AwsFault } | { kind: 'hang' } | { kind: 'lost-answer' };

export interface Call {
  service: string;
  operation: string;
  body: Body;
}

export type Operation = (body: Body) => JsonValue | Promise<JsonValue>;

export interface Service {
  /** `glue`, `athena`, ... (what tests name in faults). */
  name: string;
  protocol: 'awsJson1_0' | 'awsJson1_1' | 'awsQuery';
  /** X-Amz-Target prefix (JSON protocols). */
  targetPrefix?: string;
  operations: Record<string, Operation>;
  /** awsQuery only: the XML for a successful answer. */
  xml?: (operation: string, result: JsonValue) => string;
}

export class FakeAwsServer {
  readonly calls: Call[] = [];
  private readonly services: Service[] = [];
  private readonly faults = new Map<string, Fault[]>();
  private readonly hung = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  url = '';

  register(service: Service): void {
    this.services.push(service);
  }

  /** The next `times` calls of service.operation get this fault instead of an answer. */
  failNext(service: string, operation: string, fault: Fault, times = 1): void {
    const key = `${service}.${operation}`;
    const queue = this.faults.get(key) ?? [];
    for (let i = 0; i < times; i++) queue.push(fault);
    this.faults.set(key, queue);
  }

  /** Forgets calls and pending faults (between scenarios). */
  reset(): void {
    this.calls.length = 0;
    this.faults.clear();
  }

  callsOf(service: string, operation?: string): Call[] {
    return this.calls.filter((c) => c.service === service && (operation === undefined || c.operation === operation));
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Ends hung requests (their Lambda was already timed out) and closes the server. */
  async stop(): Promise<void> {
    for (const res of this.hung) res.destroy();
    this.hung.clear();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    const target = req.headers['x-amz-target'];
    let service: Service | undefined;
    let operation = '';
    let body: Body = {};
    if (typeof target === 'string') {
      const dot = target.lastIndexOf('.');
      service = this.services.find((s) => s.targetPrefix === target.slice(0, dot));
      operation = target.slice(dot + 1);
      body = raw ? (JSON.parse(raw) as Body) : {};
    } else {
      const form = new URLSearchParams(raw);
      operation = form.get('Action') ?? '';
      service = this.services.find((s) => s.protocol === 'awsQuery' && operation in s.operations);
      body = Object.fromEntries(form.entries());
    }
    if (!service || !service.operations[operation]) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end(`fake AWS: no operation for ${target ?? raw}`);
      return;
    }
    this.calls.push({ service: service.name, operation, body });
    const fault = this.faults.get(`${service.name}.${operation}`)?.shift();
    if (fault?.kind === 'hang') {
      this.hung.add(res);
      return;
    }
    try {
      if (fault?.kind === 'error') throw fault.fault();
      const result = await service.operations[operation]!(body);
      if (fault?.kind === 'lost-answer') {
        this.hung.add(res);
        return;
      }
      this.answer(res, service, operation, result);
    } catch (error) {
      if (!(error instanceof AwsFault)) throw error;
      this.answerError(res, service, error);
    }
  }

  private answer(res: ServerResponse, service: Service, operation: string, result: JsonValue): void {
    if (service.protocol === 'awsQuery') {
      res.writeHead(200, { 'content-type': 'text/xml' }).end(service.xml!(operation, result));
      return;
    }
    const contentType = service.protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    res.writeHead(200, { 'content-type': contentType }).end(JSON.stringify(result));
  }

  private answerError(res: ServerResponse, service: Service, error: AwsFault): void {
    if (service.protocol === 'awsQuery') {
      res
        .writeHead(error.status, { 'content-type': 'text/xml' })
        .end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type>` +
            `<Code>${xmlEscape(error.code)}</Code><Message>${xmlEscape(error.message)}</Message></Error>` +
            `<RequestId>fake-request</RequestId></ErrorResponse>`,
        );
      return;
    }
    const contentType = service.protocol === 'awsJson1_0' ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
    res
      .writeHead(error.status, { 'content-type': contentType, 'x-amzn-errortype': error.code })
      .end(JSON.stringify({ __type: error.code, message: error.message, ...error.extra }));
  }
}

export function xmlEscape(text: string): string {
  return text.replace(
    /[<>&'"]/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c,
  );
}

/** Epoch seconds, the awsJson timestamp format. */
export const epochSeconds = (date: Date): number => date.getTime() / 1000;
