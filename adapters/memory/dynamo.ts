/**
 * An in-memory DynamoDB behind the one method the DynamoDB adapters use: `doc.send(command)` of lib-dynamodb's
 * document client (plain JavaScript values, string sets as `Set`). It has DynamoDB's semantics for what the state
 * table needs, so the real adapters (adapters/aws/dynamo-*.ts) run on it in the local runtime and under the
 * protocol checker (tests/protocol/checker.ts), and tests/protocol/adapters-agree.test.ts holds it equal to moto:
 *
 * - GetItem, PutItem, UpdateItem, DeleteItem with ConditionExpression, ReturnValues (ALL_OLD/ALL_NEW);
 *   a failed condition throws ConditionalCheckFailedException (with Item when ReturnValuesOnConditionCheckFailure
 *   is ALL_OLD).
 * - Query (hash key equality, optional begins_with/comparison on the range key, ProjectionExpression, Limit,
 *   ExclusiveStartKey/LastEvaluatedKey, ascending sort-key order) and BatchGetItem.
 * - TransactWriteItems: up to 100 actions (Put, Update, Delete, ConditionCheck), no two on one item, all or
 *   nothing; when any condition fails, TransactionCanceledException with one CancellationReason per action in
 *   request order (`None` or `ConditionalCheckFailed`).
 *   https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html
 * - ClientRequestToken: "multiple identical calls have the same effect as one single call"; a token is valid for
 *   10 minutes after the first request that used it completed; the same token with other parameters within that
 *   window is IdempotentParameterMismatchException (same page, ClientRequestToken). moto does not implement the
 *   token (it applies the retry again: see docs/protocol.md, "moto and the documentation"), so the documented
 *   behaviour is tested here.
 *
 * Calls are atomic: each runs to completion synchronously before its promise settles, which is what a scheduler
 * that switches at every awaited call needs. Expressions are parsed by a small grammar covering what the
 * adapters write (comparisons, AND/OR/NOT, parentheses, attribute_exists, attribute_not_exists, begins_with,
 * contains; SET with `+`, `-` and if_not_exists, REMOVE, ADD, DELETE); anything else is a ValidationException.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';

export type Value = string | number | boolean | null | Set<string> | Set<number> | Value[] | { [k: string]: Value };
export type Item = Record<string, Value>;
type Handler = (args: { input: unknown }) => Promise<{ output: unknown }>;

/** A write applied to the store: the checker's ghost state and the tests observe the protocol through these. */
export interface AppliedWrite {
  table: string;
  key: { pk: string; sk: string };
  before: Item | undefined;
  after: Item | undefined;
}

/** One call, as the store saw it: its writes (in order) and the transaction they belonged to, if any. */
export interface AppliedCall {
  command: string;
  writes: AppliedWrite[];
}

const TOKEN_WINDOW_MS = 10 * 60 * 1000;
const MAX_TRANSACTION_ACTIONS = 100;

function awsError(name: string, message: string): Error {
  return Object.assign(new Error(message), { name, $fault: 'client', $metadata: { httpStatusCode: 400 } });
}

const validation = (message: string) => awsError('ValidationException', message);

// ---------------------------------------------------------------------------------------------------------------
// Expressions

type Token = { kind: 'name' | 'value' | 'ident' | 'op' | 'punct'; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(#[A-Za-z0-9_]+)|(:[A-Za-z0-9_]+)|([A-Za-z_][A-Za-z0-9_]*)|(<>|<=|>=|=|<|>|\+|-)|([(),.]))/y;
  let at = 0;
  while (at < expression.length) {
    if (/^\s*$/.test(expression.slice(at))) break;
    re.lastIndex = at;
    const m = re.exec(expression);
    if (!m) throw validation(`Invalid expression: unexpected text at '${expression.slice(at)}'`);
    at = re.lastIndex;
    if (m[1]) tokens.push({ kind: 'name', text: m[1] });
    else if (m[2]) tokens.push({ kind: 'value', text: m[2] });
    else if (m[3]) tokens.push({ kind: 'ident', text: m[3] });
    else if (m[4]) tokens.push({ kind: 'op', text: m[4] });
    else tokens.push({ kind: 'punct', text: m[5]! });
  }
  return tokens;
}

interface Context {
  names: Record<string, string>;
  values: Record<string, Value>;
  usedNames: Set<string>;
  usedValues: Set<string>;
}

class Parser {
  private i = 0;
  constructor(
    private readonly tokens: Token[],
    private readonly ctx: Context,
  ) {}

  peek(offset = 0): Token | undefined {
    return this.tokens[this.i + offset];
  }
  next(): Token {
    const t = this.tokens[this.i++];
    if (!t) throw validation('Invalid expression: unexpected end');
    return t;
  }
  expect(text: string): void {
    const t = this.next();
    if (t.text !== text) throw validation(`Invalid expression: expected '${text}', got '${t.text}'`);
  }
  done(): boolean {
    return this.i >= this.tokens.length;
  }
  keyword(word: string): boolean {
    const t = this.peek();
    if (t?.kind === 'ident' && t.text.toUpperCase() === word) {
      this.i++;
      return true;
    }
    return false;
  }

  /** An attribute name: `#alias` or a plain identifier (top-level attributes only). */
  path(): string {
    const t = this.next();
    if (t.kind === 'name') {
      const name = this.ctx.names[t.text];
      if (name === undefined)
        throw validation(`Value provided in ExpressionAttributeNames unused or missing: ${t.text}`);
      this.ctx.usedNames.add(t.text);
      return name;
    }
    if (t.kind === 'ident') return t.text;
    throw validation(`Invalid expression: expected an attribute name, got '${t.text}'`);
  }

  operand(): (item: Item | undefined) => Value | undefined {
    const t = this.peek();
    if (t?.kind === 'value') {
      this.i++;
      if (!(t.text in this.ctx.values))
        throw validation(`An expression attribute value used in expression is not defined: ${t.text}`);
      this.ctx.usedValues.add(t.text);
      const v = this.ctx.values[t.text]!;
      return () => v;
    }
    const name = this.path();
    return (item) => item?.[name];
  }

  condition(): (item: Item | undefined) => boolean {
    let left = this.conjunction();
    while (this.keyword('OR')) {
      const a = left;
      const b = this.conjunction();
      left = (item) => a(item) || b(item);
    }
    return left;
  }

  conjunction(): (item: Item | undefined) => boolean {
    let left = this.negation();
    while (this.keyword('AND')) {
      const a = left;
      const b = this.negation();
      left = (item) => a(item) && b(item);
    }
    return left;
  }

  negation(): (item: Item | undefined) => boolean {
    if (this.keyword('NOT')) {
      const inner = this.negation();
      return (item) => !inner(item);
    }
    return this.primary();
  }

  primary(): (item: Item | undefined) => boolean {
    const t = this.peek();
    if (t?.text === '(') {
      this.i++;
      const inner = this.condition();
      this.expect(')');
      return inner;
    }
    if (t?.kind === 'ident' && this.peek(1)?.text === '(') {
      const fn = t.text;
      this.i += 2;
      if (fn === 'attribute_exists' || fn === 'attribute_not_exists') {
        const name = this.path();
        this.expect(')');
        return fn === 'attribute_exists' ? (item) => item?.[name] !== undefined : (item) => item?.[name] === undefined;
      }
      if (fn === 'begins_with' || fn === 'contains') {
        const a = this.operand();
        this.expect(',');
        const b = this.operand();
        this.expect(')');
        return fn === 'begins_with'
          ? (item) => {
              const x = a(item);
              const y = b(item);
              return typeof x === 'string' && typeof y === 'string' && x.startsWith(y);
            }
          : (item) => {
              const x = a(item);
              const y = b(item);
              if (typeof x === 'string' && typeof y === 'string') return x.includes(y);
              if (isSet(x)) return (x as Set<unknown>).has(y);
              if (Array.isArray(x)) return x.some((e) => equal(e, y));
              return false;
            };
      }
      throw validation(`Invalid function name; function: ${fn}`);
    }
    const a = this.operand();
    const op = this.next();
    if (op.kind !== 'op' || op.text === '+' || op.text === '-')
      throw validation(`Invalid expression: expected a comparator, got '${op.text}'`);
    const b = this.operand();
    return (item) => compare(a(item), op.text, b(item));
  }
}

/** Realm-independent (structuredClone and jest's sandbox make Sets of another realm, which fail `instanceof`). */
const isSet = (v: unknown): v is Set<unknown> => Object.prototype.toString.call(v) === '[object Set]';

function equal(a: Value | undefined, b: Value | undefined): boolean {
  if (isSet(a) && isSet(b))
    return a.size === b.size && [...(a as Set<unknown>)].every((x) => (b as Set<unknown>).has(x));
  if (typeof a === 'object' && a !== null && typeof b === 'object' && b !== null)
    return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

function compare(a: Value | undefined, op: string, b: Value | undefined): boolean {
  if (a === undefined || b === undefined) return op === '<>' ? a !== b : false;
  if (op === '=') return equal(a, b);
  if (op === '<>') return !equal(a, b);
  if (typeof a !== typeof b || (typeof a !== 'number' && typeof a !== 'string')) return false;
  const x = a as number | string;
  const y = b as number | string;
  switch (op) {
    case '<':
      return x < y;
    case '<=':
      return x <= y;
    case '>':
      return x > y;
    case '>=':
      return x >= y;
  }
  return false;
}

function contextOf(input: {
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
}): Context {
  return {
    names: input.ExpressionAttributeNames ?? {},
    values: (input.ExpressionAttributeValues ?? {}) as Record<string, Value>,
    usedNames: new Set(),
    usedValues: new Set(),
  };
}

function parseCondition(expression: string, ctx: Context): (item: Item | undefined) => boolean {
  const parser = new Parser(tokenize(expression), ctx);
  const cond = parser.condition();
  if (!parser.done()) throw validation(`Invalid ConditionExpression: trailing text in '${expression}'`);
  return cond;
}

function checkAllUsed(ctx: Context): void {
  for (const n of Object.keys(ctx.names))
    if (!ctx.usedNames.has(n))
      throw validation(`Value provided in ExpressionAttributeNames unused in expressions: keys: {${n}}`);
  for (const v of Object.keys(ctx.values))
    if (!ctx.usedValues.has(v))
      throw validation(`Value provided in ExpressionAttributeValues unused in expressions: keys: {${v}}`);
}

type Action = (item: Item) => void;

function arithmetic(a: Value | undefined, op: string, b: Value | undefined): number {
  if (typeof a !== 'number' || typeof b !== 'number')
    throw validation('An operand in the update expression has an incorrect data type');
  return op === '+' ? a + b : a - b;
}

function parseUpdate(expression: string, ctx: Context): Action[] {
  const parser = new Parser(tokenize(expression), ctx);
  const actions: Action[] = [];
  const seen = new Set<string>();
  const once = (name: string) => {
    if (seen.has(name))
      throw validation(`Invalid UpdateExpression: Two document paths overlap with each other; path: [${name}]`);
    seen.add(name);
  };
  while (!parser.done()) {
    const clause = parser.next();
    const kind = clause.text.toUpperCase();
    if (clause.kind !== 'ident' || !['SET', 'REMOVE', 'ADD', 'DELETE'].includes(kind))
      throw validation(`Invalid UpdateExpression: unexpected '${clause.text}'`);
    do {
      const name = parser.path();
      once(name);
      if (kind === 'REMOVE') {
        actions.push((item) => void delete item[name]);
      } else if (kind === 'SET') {
        parser.expect('=');
        const value = setValue(parser);
        // Every right-hand side reads the item as it was before the update (all SET clauses see old values).
        actions.push(((item: Item & { __old?: Item }) => {
          item[name] = value(item.__old ?? item);
        }) as Action);
      } else {
        const operand = parser.operand();
        actions.push(kind === 'ADD' ? addAction(name, operand) : deleteAction(name, operand));
      }
    } while (parser.peek()?.text === ',' && parser.next());
  }
  return actions;
}

function setValue(parser: Parser): (item: Item) => Value {
  const t = parser.peek();
  let left: (item: Item) => Value | undefined;
  if (t?.kind === 'ident' && t.text === 'if_not_exists' && parser.peek(1)?.text === '(') {
    parser.next();
    parser.next();
    const path = parser.path();
    parser.expect(',');
    const fallback = parser.operand();
    parser.expect(')');
    left = (item) => item[path] ?? fallback(item);
  } else left = parser.operand();
  const op = parser.peek();
  if (op?.text === '+' || op?.text === '-') {
    parser.next();
    const right = parser.operand();
    return (item) => arithmetic(left(item), op.text, right(item));
  }
  return (item) => {
    const v = left(item);
    if (v === undefined)
      throw validation('The provided expression refers to an attribute that does not exist in the item');
    return v;
  };
}

function addAction(name: string, operand: (item: Item | undefined) => Value | undefined): Action {
  return (item) => {
    const v = operand(item);
    const current = item[name];
    if (typeof v === 'number') {
      if (current !== undefined && typeof current !== 'number')
        throw validation('An operand in the update expression has an incorrect data type');
      item[name] = (current ?? 0) + v;
    } else if (isSet(v)) {
      if (current !== undefined && !isSet(current))
        throw validation('An operand in the update expression has an incorrect data type');
      item[name] = new Set([...((current as Set<string> | undefined) ?? []), ...(v as Set<string>)]) as Set<string>;
    } else throw validation('Incorrect operand type for operator or function; operator: ADD');
  };
}

function deleteAction(name: string, operand: (item: Item | undefined) => Value | undefined): Action {
  return (item) => {
    const v = operand(item);
    if (!isSet(v)) throw validation('Incorrect operand type for operator or function; operator: DELETE');
    const current = item[name];
    if (current === undefined) return;
    if (!isSet(current)) throw validation('An operand in the update expression has an incorrect data type');
    const left = new Set([...(current as Set<string>)].filter((x) => !(v as Set<string>).has(x)));
    // DynamoDB has no empty sets: removing the last element removes the attribute.
    if (left.size === 0) delete item[name];
    else item[name] = left;
  };
}

function checkValue(value: Value, where: string): void {
  if (isSet(value) && value.size === 0)
    throw validation(`One or more parameter values were invalid: An ${where} may not be an empty set`);
  if (value === '' && where.startsWith('key'))
    throw validation(
      'One or more parameter values are not valid. A value specified for a key attribute must not be empty',
    );
}

// ---------------------------------------------------------------------------------------------------------------
// The store

interface Table {
  hash: string;
  range: string;
  items: Map<string, Map<string, Item>>;
}

interface WriteRequest {
  TableName: string;
  Key?: Record<string, unknown>;
  Item?: Record<string, unknown>;
  ConditionExpression?: string;
  UpdateExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
  ExpressionAttributeValues?: Record<string, unknown>;
  ReturnValues?: string;
  ReturnValuesOnConditionCheckFailure?: string;
}

type Kind = 'Put' | 'Update' | 'Delete' | 'ConditionCheck';

/** A prepared write: its condition checked, its new item computed, nothing applied yet. */
interface Prepared {
  table: Table;
  tableName: string;
  key: { pk: string; sk: string };
  before: Item | undefined;
  after: Item | undefined;
  passed: boolean;
  apply: boolean;
}

const clone = <T>(v: T): T => structuredClone(v);

export class MemoryDynamo {
  private readonly tables = new Map<string, Table>();
  private readonly tokens = new Map<string, { request: string; at: number }>();
  /** Observers of applied calls (the checker's ghost state). */
  readonly listeners: Array<(call: AppliedCall) => void> = [];
  /** Every call the store answered, by command name (for counting requests in tests). */
  readonly counts = new Map<string, number>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  createTable(name: string, hash = 'pk', range = 'sk'): void {
    if (!this.tables.has(name)) this.tables.set(name, { hash, range, items: new Map() });
  }

  private readonly middleware: Array<(next: Handler, context: { commandName: string }) => Handler> = [];

  /**
   * A document client stand-in: `send(command)` for the lib-dynamodb commands, and a `middlewareStack.add` that
   * wraps each call as the SDK's does (tests count writes through it: tests/support/write-accounting.ts).
   */
  readonly doc = {
    send: (command: { constructor: { name: string }; input: unknown }): Promise<unknown> => {
      const name = command.constructor.name;
      let handler: Handler = async (args) => ({ output: this.execute(name, args.input as Record<string, unknown>) });
      for (const m of this.middleware)
        handler = m(handler, {
          commandName: name.replace(
            /^(Get|Put|Update|Delete|Query|BatchGet|TransactWrite)Command$/,
            (_x, op: string) =>
              `${op === 'Query' ? 'Query' : op}${op === 'Query' ? '' : op === 'BatchGet' || op === 'TransactWrite' ? 'Items' : 'Item'}Command`,
          ),
        });
      return handler({ input: command.input }).then((r) => r.output);
    },
    middlewareStack: {
      add: (m: (next: Handler, context: { commandName: string }) => Handler) => void this.middleware.push(m),
      remove: () => {
        this.middleware.length = 0;
        return true;
      },
    },
  };

  /** Every item of a table, sorted by key (a snapshot: copies). */
  items(tableName: string): Item[] {
    const table = this.table(tableName);
    return [...table.items.keys()]
      .sort()
      .flatMap((pk) => [...table.items.get(pk)!.keys()].sort().map((sk) => clone(table.items.get(pk)!.get(sk)!)));
  }

  /** A canonical text of the whole store: equal text, equal state (the checker's state hash). */
  fingerprint(): string {
    const parts: string[] = [];
    for (const name of [...this.tables.keys()].sort())
      for (const item of this.items(name)) parts.push(`${name}|${canonical(item)}`);
    return parts.join('\n');
  }

  execute(command: string, input: Record<string, unknown>): unknown {
    this.counts.set(command, (this.counts.get(command) ?? 0) + 1);
    switch (command) {
      case 'GetCommand':
      case 'GetItemCommand':
        return this.get(input as unknown as WriteRequest & { ProjectionExpression?: string });
      case 'PutCommand':
      case 'UpdateCommand':
      case 'DeleteCommand':
        return this.single(command.replace('Command', '') as Kind, input as unknown as WriteRequest);
      case 'QueryCommand':
        return this.query(input);
      case 'BatchGetCommand':
        return this.batchGet(input);
      case 'TransactWriteCommand':
        return this.transact(input);
      default:
        throw validation(`in-memory DynamoDB: no operation ${command}`);
    }
  }

  private table(name: string): Table {
    const table = this.tables.get(name);
    if (!table) throw awsError('ResourceNotFoundException', `Requested resource not found: Table: ${name} not found`);
    return table;
  }

  private keyOf(table: Table, source: Record<string, unknown> | undefined, where: string): { pk: string; sk: string } {
    const pk = source?.[table.hash];
    const sk = source?.[table.range];
    if (typeof pk !== 'string' || typeof sk !== 'string')
      throw validation(
        `One or more parameter values were invalid: Missing the key ${typeof pk !== 'string' ? table.hash : table.range} in the ${where}`,
      );
    if (pk === '' || sk === '') checkValue('', 'key');
    return { pk, sk };
  }

  private read(table: Table, key: { pk: string; sk: string }): Item | undefined {
    return table.items.get(key.pk)?.get(key.sk);
  }

  private write(table: Table, key: { pk: string; sk: string }, item: Item | undefined): void {
    let byPk = table.items.get(key.pk);
    if (item === undefined) {
      byPk?.delete(key.sk);
      if (byPk?.size === 0) table.items.delete(key.pk);
      return;
    }
    if (!byPk) table.items.set(key.pk, (byPk = new Map()));
    byPk.set(key.sk, item);
  }

  private get(input: WriteRequest & { ProjectionExpression?: string }) {
    const table = this.table(input.TableName);
    const key = this.keyOf(table, input.Key, 'Key');
    const item = this.read(table, key);
    return item ? { Item: project(clone(item), input.ProjectionExpression, input.ExpressionAttributeNames) } : {};
  }

  /** Checks the condition and computes the new item; applies nothing. */
  private prepare(kind: Kind, request: WriteRequest): Prepared {
    const table = this.table(request.TableName);
    const source = kind === 'Put' ? request.Item : request.Key;
    const key = this.keyOf(table, source, kind === 'Put' ? 'item' : 'Key');
    if (kind !== 'Put' && Object.keys(request.Key ?? {}).length !== 2)
      throw validation('The provided key element does not match the schema');
    const ctx = contextOf(request);
    const condition = request.ConditionExpression ? parseCondition(request.ConditionExpression, ctx) : undefined;
    if (kind === 'ConditionCheck' && !condition) throw validation('ConditionCheck needs a ConditionExpression');
    const updates = kind === 'Update' && request.UpdateExpression ? parseUpdate(request.UpdateExpression, ctx) : [];
    checkAllUsed(ctx);
    for (const [name, v] of Object.entries(ctx.values)) checkValue(v, `ExpressionAttributeValues ${name}`);
    const before = this.read(table, key);
    const passed = condition ? condition(before) : true;
    let after: Item | undefined = before;
    if (kind === 'Put') {
      for (const [name, v] of Object.entries(request.Item ?? {})) checkValue(v as Value, `item attribute ${name}`);
      after = clone(request.Item as Item);
      for (const [name, v] of Object.entries(after)) if (v === undefined) delete after[name];
    } else if (kind === 'Delete') after = undefined;
    else if (kind === 'Update') {
      const next: Item & { __old?: Item } = before ? clone(before) : { [table.hash]: key.pk, [table.range]: key.sk };
      Object.defineProperty(next, '__old', { value: before ? clone(before) : clone(next), enumerable: false });
      for (const action of updates) action(next);
      for (const k of [table.hash, table.range])
        if (next[k] !== (k === table.hash ? key.pk : key.sk))
          throw validation(
            `One or more parameter values were invalid: Cannot update attribute ${k}. This attribute is part of the key`,
          );
      after = { ...next };
    }
    return { table, tableName: request.TableName, key, before, after, passed, apply: kind !== 'ConditionCheck' };
  }

  private commit(command: string, prepared: Prepared[]): void {
    const writes: AppliedWrite[] = [];
    for (const p of prepared) {
      if (!p.apply) continue;
      this.write(p.table, p.key, p.after === undefined ? undefined : clone(p.after));
      writes.push({
        table: p.tableName,
        key: p.key,
        before: p.before && clone(p.before),
        after: p.after && clone(p.after),
      });
    }
    for (const listener of this.listeners) listener({ command, writes });
  }

  private single(kind: Kind, request: WriteRequest) {
    const prepared = this.prepare(kind, request);
    if (!prepared.passed) {
      const error = new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
      if (request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && prepared.before)
        (error as { Item?: Item }).Item = clone(prepared.before);
      throw error;
    }
    this.commit(`${kind}Command`, [prepared]);
    if (request.ReturnValues === 'ALL_NEW' && prepared.after) return { Attributes: clone(prepared.after) };
    if (request.ReturnValues === 'ALL_OLD' && prepared.before) return { Attributes: clone(prepared.before) };
    return {};
  }

  private query(input: Record<string, unknown>) {
    const table = this.table(String(input.TableName));
    const ctx = contextOf(input as unknown as WriteRequest);
    const expression = String(input.KeyConditionExpression ?? '');
    const condition = parseCondition(expression, ctx);
    const filter = input.FilterExpression ? parseCondition(String(input.FilterExpression), ctx) : undefined;
    if (input.ProjectionExpression)
      for (const n of String(input.ProjectionExpression).match(/#\w+/g) ?? []) ctx.usedNames.add(n);
    checkAllUsed(ctx);
    const pk = hashValueOf(expression, table.hash, ctx);
    const byPk = table.items.get(pk);
    const sks = [...(byPk?.keys() ?? [])].sort();
    const start = (input.ExclusiveStartKey as Record<string, unknown> | undefined)?.[table.range];
    const limit = typeof input.Limit === 'number' ? input.Limit : Infinity;
    const items: Item[] = [];
    let last: string | undefined;
    let scanned = 0;
    for (const sk of sks) {
      if (start !== undefined && sk <= String(start)) continue;
      if (items.length >= limit) break;
      const item = byPk!.get(sk)!;
      last = sk;
      if (!condition(item)) continue;
      scanned++;
      if (filter && !filter(item)) continue;
      items.push(project(clone(item), input.ProjectionExpression as string | undefined, ctx.names));
    }
    const more =
      items.length >= limit && last !== undefined && sks.some((sk) => sk > last! && condition(byPk!.get(sk)));
    return {
      Items: items,
      Count: items.length,
      ScannedCount: scanned,
      ...(more ? { LastEvaluatedKey: { [table.hash]: pk, [table.range]: last } } : {}),
    };
  }

  private batchGet(input: Record<string, unknown>) {
    const requests = input.RequestItems as Record<
      string,
      { Keys: Record<string, unknown>[]; ProjectionExpression?: string }
    >;
    const total = Object.values(requests).reduce((n, r) => n + r.Keys.length, 0);
    if (total > 100) throw validation('Too many items requested for the BatchGetItem call');
    const Responses: Record<string, Item[]> = {};
    for (const [name, request] of Object.entries(requests)) {
      const table = this.table(name);
      Responses[name] = request.Keys.flatMap((k) => {
        const item = this.read(table, this.keyOf(table, k, 'Key'));
        return item ? [project(clone(item), request.ProjectionExpression)] : [];
      });
    }
    return { Responses, UnprocessedKeys: {} };
  }

  private transact(input: Record<string, unknown>) {
    const actions = (input.TransactItems ?? []) as Array<Partial<Record<Kind, WriteRequest>>>;
    if (actions.length === 0 || actions.length > MAX_TRANSACTION_ACTIONS)
      throw validation(
        `Member must have length less than or equal to ${MAX_TRANSACTION_ACTIONS} and at least 1: TransactItems`,
      );
    const token = input.ClientRequestToken as string | undefined;
    const request = canonical(actions as unknown as Value);
    if (token !== undefined) {
      const previous = this.tokens.get(token);
      if (previous && this.now() - previous.at < TOKEN_WINDOW_MS) {
        if (previous.request !== request)
          throw awsError('IdempotentParameterMismatchException', 'Idempotency token reused with different parameters');
        return {}; // Already applied: the same effect as one call, nothing written again.
      }
    }
    const prepared = actions.map((action) => {
      const kinds = Object.keys(action) as Kind[];
      if (kinds.length !== 1)
        throw validation('Each TransactItem needs exactly one of Put, Update, Delete, ConditionCheck');
      return this.prepare(kinds[0]!, action[kinds[0]!]!);
    });
    const keys = new Set<string>();
    for (const p of prepared) {
      const id = `${p.tableName}\n${p.key.pk}\n${p.key.sk}`;
      if (keys.has(id)) throw validation('Transaction request cannot include multiple operations on one item');
      keys.add(id);
    }
    if (prepared.some((p) => !p.passed)) {
      const reasons = prepared.map((p, i) => {
        if (p.passed) return { Code: 'None' };
        const request = Object.values(actions[i]!)[0]!;
        return {
          Code: 'ConditionalCheckFailed',
          Message: 'The conditional request failed',
          ...(request.ReturnValuesOnConditionCheckFailure === 'ALL_OLD' && p.before ? { Item: clone(p.before) } : {}),
        };
      });
      throw new TransactionCanceledException({
        message: `Transaction cancelled, please refer cancellation reasons for specific reasons [${reasons.map((r) => r.Code).join(', ')}]`,
        CancellationReasons: reasons as never,
        $metadata: {},
      });
    }
    this.commit('TransactWriteCommand', prepared);
    if (token !== undefined) this.tokens.set(token, { request, at: this.now() });
    return {};
  }
}

function hashValueOf(expression: string, hash: string, ctx: Context): string {
  for (const m of expression.matchAll(/(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    const name = m[1]!.startsWith('#') ? ctx.names[m[1]!] : m[1];
    if (name === hash) {
      const v = ctx.values[m[2]!];
      if (typeof v === 'string') return v;
    }
  }
  throw validation('Query condition missed key schema element');
}

function project(item: Item, projection: string | undefined, names: Record<string, string> = {}): Item {
  if (!projection) return item;
  const wanted = projection.split(',').map((p) => {
    const n = p.trim();
    return n.startsWith('#') ? (names[n] ?? n) : n;
  });
  return Object.fromEntries(Object.entries(item).filter(([k]) => wanted.includes(k)));
}

/** Sorted keys, sets as sorted arrays: a stable text for equal values. */
export function canonical(value: Value | undefined): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (isSet(v)) return { $set: [...v].sort() };
    if (v && typeof v === 'object' && !Array.isArray(v))
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    return v;
  });
}
