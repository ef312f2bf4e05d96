/**
 * Which AWS SDK commands can each function send? Derived from the code, not listed by hand: starting at the
 * function's exported handler, follow every reference (calls, callbacks, `this.method`, and a port's interface
 * method to the classes that implement it in the function's own import closure) with the TypeScript checker,
 * and collect each `new XxxCommand(...)` of an @aws-sdk package that is reached. Reaching a function counts
 * even if a branch never calls it: an over-approximation, as a permission check should be.
 */
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

export interface SdkCommand {
  /** e.g. `@aws-sdk/client-glue`, `@aws-sdk/lib-dynamodb` */
  pkg: string;
  /** e.g. `StartJobRunCommand` */
  command: string;
}

const ROOT = join(__dirname, '..', '..');

/** The program of the given entry files (default: every function handler) and everything they import. */
export function loadProgram(entries?: string[]): ts.Program {
  const configPath = join(ROOT, 'tsconfig.json');
  const parsed = ts.parseJsonConfigFileContent(ts.readConfigFile(configPath, ts.sys.readFile).config, ts.sys, ROOT);
  const rootNames = entries ?? parsed.fileNames.filter((f) => relative(ROOT, f).startsWith('functions/'));
  return ts.createProgram({ rootNames, options: { ...parsed.options, noEmit: true, types: [] } });
}

const isProjectFile = (f: ts.SourceFile) => !f.isDeclarationFile && !f.fileName.includes('/node_modules/');
const awsPackageOf = (fileName: string) => /node_modules\/(@aws-sdk\/[^/]+)\//.exec(fileName)?.[1];

/** Source files an entry imports, transitively (project files only). */
function importClosure(program: ts.Program, entry: ts.SourceFile): Set<string> {
  const seen = new Set<string>([entry.fileName]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    file.forEachChild((node) => {
      const spec =
        (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier
          ? (node.moduleSpecifier as ts.StringLiteral).text
          : undefined;
      if (!spec || !spec.startsWith('.')) return;
      const resolved = ts.resolveModuleName(spec, file.fileName, program.getCompilerOptions(), ts.sys).resolvedModule
        ?.resolvedFileName;
      const target = resolved ? program.getSourceFile(resolved) : undefined;
      if (target && isProjectFile(target) && !seen.has(target.fileName)) {
        seen.add(target.fileName);
        queue.push(target);
      }
    });
  }
  return seen;
}

/** `paginateGetJobRuns(...)` of an @aws-sdk client sends GetJobRunsCommand. */
function sdkPaginatorCommand(checker: ts.TypeChecker, call: ts.CallExpression): SdkCommand | undefined {
  let symbol = checker.getSymbolAtLocation(call.expression);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  const declaration = symbol?.declarations?.[0];
  const pkg = declaration ? awsPackageOf(declaration.getSourceFile().fileName) : undefined;
  const operation = /^paginate([A-Z]\w+)$/.exec(symbol?.name ?? '')?.[1];
  return pkg && operation ? { pkg, command: `${operation}Command` } : undefined;
}

/** Declarations whose bodies run when referenced. A class runs only what `new` runs (see below). */
const isCode = (d: ts.Declaration): boolean =>
  ts.isFunctionDeclaration(d) ||
  ts.isMethodDeclaration(d) ||
  ts.isGetAccessorDeclaration(d) ||
  ts.isSetAccessorDeclaration(d) ||
  ts.isVariableDeclaration(d) ||
  ts.isPropertyDeclaration(d) ||
  ts.isPropertyAssignment(d) ||
  ts.isShorthandPropertyAssignment(d) ||
  ts.isFunctionExpression(d) ||
  ts.isArrowFunction(d) ||
  ts.isExportAssignment(d);

export class SdkCallAnalysis {
  private readonly checker: ts.TypeChecker;
  /** interface symbol -> classes declaring `implements` it */
  private readonly implementations = new Map<ts.Symbol, ts.ClassLikeDeclaration[]>();

  constructor(private readonly program: ts.Program) {
    this.checker = program.getTypeChecker();
    for (const file of program.getSourceFiles().filter(isProjectFile))
      file.forEachChild(
        function visit(this: SdkCallAnalysis, node: ts.Node): void {
          if (ts.isClassDeclaration(node))
            for (const clause of node.heritageClauses ?? [])
              for (const type of clause.types) {
                const symbol = this.resolve(this.checker.getSymbolAtLocation(type.expression));
                if (symbol) this.implementations.set(symbol, [...(this.implementations.get(symbol) ?? []), node]);
              }
          ts.forEachChild(node, visit.bind(this));
        }.bind(this),
      );
  }

  private resolve(symbol: ts.Symbol | undefined): ts.Symbol | undefined {
    return symbol && symbol.flags & ts.SymbolFlags.Alias ? this.checker.getAliasedSymbol(symbol) : symbol;
  }

  /** SDK commands reachable from `export const handler` (or function) of a `functions/x.handler` path. */
  commandsOf(handlerPath: string): SdkCommand[] {
    const [file, exportName] = [handlerPath.replace(/\.[^.]+$/, '.ts'), handlerPath.split('.').pop()!];
    const entry = this.program.getSourceFile(resolve(ROOT, file));
    if (!entry) throw new Error(`no source file for ${handlerPath}`);
    const closure = importClosure(this.program, entry);
    const exported = this.checker
      .getExportsOfModule(this.checker.getSymbolAtLocation(entry)!)
      .find((s) => s.name === exportName);
    if (!exported) throw new Error(`${file} exports no ${exportName}`);
    const found = new Map<string, SdkCommand>();
    const visited = new Set<ts.Node>();
    const queue: ts.Node[] = [...(this.resolve(exported)?.declarations ?? [])];
    const enqueue = (declaration: ts.Node) => {
      if (!visited.has(declaration)) {
        visited.add(declaration);
        queue.push(declaration);
      }
    };
    const follow = (symbol: ts.Symbol | undefined) => {
      for (const declaration of this.resolve(symbol)?.declarations ?? []) {
        const source = declaration.getSourceFile();
        if (!isProjectFile(source)) continue;
        if (ts.isMethodSignature(declaration) || ts.isPropertySignature(declaration)) {
          // A port's method: whatever implements it in this function's code.
          const owner = this.resolve(
            this.checker.getSymbolAtLocation((declaration.parent as ts.InterfaceDeclaration).name),
          );
          const name = declaration.name.getText();
          for (const cls of (owner && this.implementations.get(owner)) ?? [])
            if (closure.has(cls.getSourceFile().fileName))
              for (const member of cls.members) if (member.name?.getText() === name) enqueue(member);
        } else if (isCode(declaration)) enqueue(declaration);
      }
    };
    while (queue.length > 0) {
      const node = queue.pop()!;
      const visit = (n: ts.Node): void => {
        const paginated = ts.isCallExpression(n) ? sdkPaginatorCommand(this.checker, n) : undefined;
        if (paginated) found.set(`${paginated.pkg}#${paginated.command}`, paginated);
        if (ts.isNewExpression(n)) {
          const symbol = this.resolve(this.checker.getSymbolAtLocation(n.expression));
          const declaration = symbol?.declarations?.[0];
          const pkg = declaration ? awsPackageOf(declaration.getSourceFile().fileName) : undefined;
          if (pkg && symbol!.name.endsWith('Command'))
            found.set(`${pkg}#${symbol!.name}`, { pkg, command: symbol!.name });
          // Constructing a project class runs its constructor and field initialisers.
          for (const d of symbol?.declarations ?? [])
            if (ts.isClassDeclaration(d) && isProjectFile(d.getSourceFile()))
              for (const m of d.members) if (ts.isConstructorDeclaration(m) || ts.isPropertyDeclaration(m)) enqueue(m);
        }
        if (
          ts.isTypeNode(n) ||
          ts.isImportDeclaration(n) ||
          ts.isInterfaceDeclaration(n) ||
          ts.isTypeAliasDeclaration(n)
        )
          return; // types send nothing
        if (ts.isIdentifier(n) || ts.isPrivateIdentifier(n)) follow(this.checker.getSymbolAtLocation(n));
        ts.forEachChild(n, visit);
      };
      visit(node);
    }
    return [...found.values()].sort((a, b) => `${a.pkg}${a.command}`.localeCompare(`${b.pkg}${b.command}`));
  }
}

/**
 * IAM action of an SDK command: the service's IAM prefix and the operation's name, except where the Service
 * Authorization Reference names another action (https://docs.aws.amazon.com/service-authorization/latest/reference/):
 * S3 HeadObject needs s3:GetObject, ListObjectsV2 s3:ListBucket, ListObjectVersions s3:ListBucketVersions;
 * batch calls need their single action; lib-dynamodb's document commands send the DynamoDB item commands.
 */
const IAM_PREFIX: Record<string, string> = {
  'client-sfn': 'states',
  'client-cloudwatch-logs': 'logs',
  'client-dynamodb': 'dynamodb',
  'lib-dynamodb': 'dynamodb',
};
const ACTION_EXCEPTIONS: Record<string, string> = {
  's3:HeadObject': 's3:GetObject',
  's3:ListObjectsV2': 's3:ListBucket',
  's3:ListObjects': 's3:ListBucket',
  's3:HeadBucket': 's3:ListBucket',
  's3:ListObjectVersions': 's3:ListBucketVersions',
  's3:DeleteObjects': 's3:DeleteObject',
  'sqs:SendMessageBatch': 'sqs:SendMessage',
  'sqs:DeleteMessageBatch': 'sqs:DeleteMessage',
  'sns:PublishBatch': 'sns:Publish',
};
const DOCUMENT_COMMANDS: Record<string, string> = {
  Get: 'GetItem',
  Put: 'PutItem',
  Update: 'UpdateItem',
  Delete: 'DeleteItem',
  BatchGet: 'BatchGetItem',
  BatchWrite: 'BatchWriteItem',
  TransactGet: 'TransactGetItems',
  TransactWrite: 'TransactWriteItems',
};

export function iamActionOf({ pkg, command }: SdkCommand): string {
  const short = pkg.replace('@aws-sdk/', '');
  const prefix = IAM_PREFIX[short] ?? short.replace(/^client-/, '');
  let operation = command.replace(/Command$/, '');
  if (short === 'lib-dynamodb') operation = DOCUMENT_COMMANDS[operation] ?? operation;
  const action = `${prefix}:${operation}`;
  return ACTION_EXCEPTIONS[action] ?? action;
}

/**
 * DynamoDB transactions have no IAM action of their own: each action inside is authorized as the item operation it
 * is (Put -> PutItem, Update -> UpdateItem, Delete -> DeleteItem, Get -> GetItem), and a ConditionCheck as
 * dynamodb:ConditionCheckItem (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/transaction-apis-iam.html).
 * A function that sends a transaction may put any of them in it, so it needs all of them.
 */
const ACTION_EXPANSIONS: Record<string, string[]> = {
  'dynamodb:TransactWriteItems': [
    'dynamodb:PutItem',
    'dynamodb:UpdateItem',
    'dynamodb:DeleteItem',
    'dynamodb:ConditionCheckItem',
  ],
  'dynamodb:TransactGetItems': ['dynamodb:GetItem'],
};

/** The IAM actions an SDK command is authorized as (one, except for the actions inside a transaction). */
export function iamActionsOf(command: SdkCommand): string[] {
  const action = iamActionOf(command);
  return ACTION_EXPANSIONS[action] ?? [action];
}

/** Commands constructed anywhere in a set of project files (what a bundle of them would contain). */
export function commandsConstructedIn(program: ts.Program, files: Iterable<string>): Set<string> {
  const checker = program.getTypeChecker();
  const names = new Set<string>();
  for (const fileName of files) {
    const file = program.getSourceFile(fileName);
    file?.forEachChild(function visit(n: ts.Node): void {
      const paginated = ts.isCallExpression(n) ? sdkPaginatorCommand(checker, n) : undefined;
      if (paginated) names.add(paginated.command);
      if (ts.isNewExpression(n)) {
        let symbol = checker.getSymbolAtLocation(n.expression);
        if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
        const d = symbol?.declarations?.[0];
        if (d && awsPackageOf(d.getSourceFile().fileName) && symbol!.name.endsWith('Command')) names.add(symbol!.name);
      }
      ts.forEachChild(n, visit);
    });
  }
  return names;
}

export function closureOf(program: ts.Program, handlerPath: string): Set<string> {
  const entry = program.getSourceFile(resolve(ROOT, handlerPath.replace(/\.[^.]+$/, '.ts')));
  if (!entry) throw new Error(`no source file for ${handlerPath}`);
  return importClosure(program, entry);
}

export const projectPath = (fileName: string) => relative(ROOT, fileName) || dirname(fileName);
