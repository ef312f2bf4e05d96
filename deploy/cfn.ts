/** Small CloudFormation building blocks shared by the resource families of the stack. */
export type Cfn = Record<string, unknown>;

export interface Statement {
  Effect: 'Allow' | 'Deny';
  Action: string[];
  Resource: unknown[] | string;
  Condition?: Cfn;
}

/** What one resource family contributes: CloudFormation resources, outputs, and Serverless Framework functions. */
export interface Family {
  resources: Record<string, Cfn>;
  outputs?: Record<string, Cfn>;
  functions?: Record<string, Cfn>;
}

export const sub = (text: string): Cfn => ({ 'Fn::Sub': text });
export const arn = (logicalId: string): Cfn => ({ 'Fn::GetAtt': [logicalId, 'Arn'] });
export const ref = (logicalId: string): Cfn => ({ Ref: logicalId });

export const allow = (actions: string[], resources: unknown[], condition?: Cfn): Statement =>
  condition
    ? { Effect: 'Allow', Action: actions, Resource: resources, Condition: condition }
    : { Effect: 'Allow', Action: actions, Resource: resources };

export const pascal = (s: string): string =>
  s
    .split(/[^A-Za-z0-9]/)
    .filter(Boolean)
    .map((p) => p.charAt(0).toUpperCase() + p.slice(1))
    .join('');

/** Serverless Framework's logical id for a function. */
export const functionLogicalId = (name: string): string =>
  `${name.charAt(0).toUpperCase()}${name.slice(1)}LambdaFunction`;

/** A role that one AWS service assumes, with one inline policy. */
export function serviceRole(service: string, policyName: string, statements: Statement[]): Cfn {
  return {
    Type: 'AWS::IAM::Role',
    Properties: {
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole' }],
      },
      Policies: [{ PolicyName: policyName, PolicyDocument: { Version: '2012-10-17', Statement: statements } }],
    },
  };
}

/**
 * s3:ListBucket on a bucket, in the two forms a role may need it:
 * - `folders`: listings, which carry s3:prefix (ListObjects' prefix parameter), only inside these folders;
 * - `existenceChecks`: S3 answers a GET or HEAD of a missing key 404 only to a caller allowed s3:ListBucket on the
 *   bucket, otherwise 403 (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html, Permissions), and
 *   Spark's S3 filesystem and the intake's key resolution need the 404. Such a request has no prefix parameter, so
 *   s3:prefix is absent (https://docs.aws.amazon.com/AmazonS3/latest/userguide/amazon-s3-policy-keys.html), and
 *   the grant is conditioned on exactly that (`Null`), never on an IfExists operator that would also let any
 *   prefix through.
 * IAM cannot tell an existence check from a ListObjects call without a prefix (neither carries s3:prefix), so a
 * role that needs the 404 may also list a bucket's first keys: such roles get the existence grant only where their
 * code reads objects of that bucket; listing-only roles (crawlers) get none. docs/first-deploy.md step 4 checks both
 * on a real account. Ceph's S3 gateway evaluates that check with the requested key as s3:prefix "to match aws
 * behavior" (ceph/ceph pull request 68577): if a real account confirms it, the `Null` grants can go.
 */
export function listBucket(
  bucketArn: Cfn,
  { folders = [], existenceChecks = false }: { folders?: string[]; existenceChecks?: boolean },
): Statement[] {
  const statements: Statement[] = [];
  if (folders.length > 0)
    statements.push(
      allow(['s3:ListBucket'], [bucketArn], { StringLike: { 's3:prefix': folders.flatMap((f) => [f, `${f}*`]) } }),
    );
  if (existenceChecks) statements.push(allow(['s3:ListBucket'], [bucketArn], { Null: { 's3:prefix': 'true' } }));
  return statements;
}
