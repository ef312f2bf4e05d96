/** The packaged CloudFormation template as the deploy rules read it. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- CloudFormation JSON is untyped; each rule narrows what it reads
export type Json = any;
export interface Resource {
  Type: string;
  Properties: Record<string, Json>;
  DeletionPolicy?: string;
  UpdateReplacePolicy?: string;
  DependsOn?: string | string[];
}
export interface Template {
  Resources: Record<string, Resource>;
  Outputs?: Record<string, Json>;
}

export const of = (t: Template, type: string): Array<[string, Resource]> =>
  Object.entries(t.Resources).filter(([, r]) => r.Type === type);
export const asArray = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** The logical id an intrinsic points at: { Ref: X } or { 'Fn::GetAtt': [X, ...] }. */
export function target(value: Json): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    if (Array.isArray(value['Fn::GetAtt'])) return value['Fn::GetAtt'][0];
  }
  return undefined;
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: Json;
  Condition?: Json;
}
export function roleStatements(t: Template, roleId: string): Statement[] {
  const role = t.Resources[roleId];
  if (!role) return [];
  return asArray(role.Properties.Policies).flatMap((p: Json) => asArray(p.PolicyDocument.Statement));
}
