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
