/**
 * dynalite's own request validation and actions, called in-process (no HTTP, no SDK middleware), behind the one
 * method the DynamoDB adapters use: `doc.send(command)` of lib-dynamodb's document client. Same semantics as the
 * dynalite server the integration tests use (conditions, update expressions, sets, consistent reads), about
 * 20x faster, so the interleaving model can run the real adapter code (adapters/aws/dynamo-state.ts) through
 * tens of thousands of interleavings. Marshalling is @aws-sdk/util-dynamodb's, as in lib-dynamodb.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { stateTableDefinition } from '../support/dynamo';

/* eslint-disable @typescript-eslint/no-require-imports -- dynalite's internals ship as untyped CommonJS. */
type Callback = (err: DynaliteError | null, out?: Record<string, unknown>) => void;
interface DynaliteError extends Error {
  statusCode?: number;
  body?: { __type?: string; message?: string; Message?: string };
}
const db = require('dynalite/db') as { create(options: Record<string, unknown>): unknown };
const validations = require('dynalite/validations') as {
  checkTypes(data: unknown, types: unknown): Record<string, unknown>;
  checkValidations(data: unknown, types: unknown, custom: unknown, store: unknown): void;
};
const OPERATIONS = ['createTable', 'describeTable', 'getItem', 'putItem', 'updateItem', 'deleteItem', 'query'];
const actions = Object.fromEntries(
  OPERATIONS.map((op) => [
    op,
    {
      run: require(`dynalite/actions/${op}`) as (store: unknown, data: unknown, cb: Callback) => void,
      rules: require(`dynalite/validations/${op}`) as { types: unknown; custom?: unknown },
    },
  ]),
);
/* eslint-enable @typescript-eslint/no-require-imports */

const OPERATION_OF_COMMAND: Record<string, string> = {
  GetCommand: 'getItem',
  PutCommand: 'putItem',
  UpdateCommand: 'updateItem',
  DeleteCommand: 'deleteItem',
  QueryCommand: 'query',
};
const MARSHALLED_INPUTS = ['Key', 'Item', 'ExpressionAttributeValues', 'ExclusiveStartKey'];
const options = { removeUndefinedValues: false, convertClassInstanceToMap: false };

function toSdkError(err: DynaliteError): Error {
  const type = (err.body?.__type ?? err.name).split('#').pop() ?? 'Error';
  const message = err.body?.message ?? err.body?.Message ?? err.message;
  if (type === 'ConditionalCheckFailedException')
    return new ConditionalCheckFailedException({ message, $metadata: {} });
  return Object.assign(new Error(message), { name: type, $metadata: {} });
}

export class InProcessDynamo {
  private readonly store = db.create({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });

  /** One low-level DynamoDB call (wire-format attribute values), validated and executed as dynalite does. */
  raw(operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const action = actions[operation];
    if (!action) throw new Error(`in-process dynalite: no operation ${operation}`);
    return new Promise((resolve, reject) => {
      try {
        const data = validations.checkTypes(structuredClone(input), action.rules.types);
        validations.checkValidations(data, action.rules.types, action.rules.custom, this.store);
        action.run(this.store, data, (err, out) => (err ? reject(toSdkError(err)) : resolve(out ?? {})));
      } catch (error) {
        reject(toSdkError(error as DynaliteError));
      }
    });
  }

  async createTable(name: string): Promise<void> {
    await this.raw('createTable', stateTableDefinition(name));
    for (let i = 0; i < 1000; i++) {
      const { Table } = (await this.raw('describeTable', { TableName: name })) as { Table?: { TableStatus?: string } };
      if (Table?.TableStatus === 'ACTIVE') return;
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    throw new Error(`table ${name} did not become ACTIVE`);
  }

  /** What lib-dynamodb's document client does with one of its commands, minus the network. */
  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const operation = OPERATION_OF_COMMAND[command.constructor.name];
    if (!operation) throw new Error(`in-process dynalite: unsupported command ${command.constructor.name}`);
    const input: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(command.input)) {
      if (value === undefined) continue;
      input[key] = MARSHALLED_INPUTS.includes(key) ? marshall(value as Record<string, unknown>, options) : value;
    }
    const out = await this.raw(operation, input);
    const result: Record<string, unknown> = { ...out };
    for (const key of ['Item', 'Attributes', 'LastEvaluatedKey'])
      if (out[key]) result[key] = unmarshall(out[key] as never);
    if (Array.isArray(out.Items)) result.Items = out.Items.map((i) => unmarshall(i as never));
    return result;
  }
}
