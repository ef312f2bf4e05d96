/** Types of glue-script.js (CommonJS, shared by the stack and the Serverless Framework plugin). */
export declare const GLUE_SCRIPT_SOURCE: string;

export interface GlueScriptArtifact {
  body: Buffer;
  sha256: string;
  /** Path inside the package folder (`sls package --package <dir>`). */
  packagedPath: string;
  /** Key in the deployment bucket. */
  key: string;
}

export declare function glueScriptArtifact(
  stage: string,
  service?: string,
  deploymentPrefix?: string,
): GlueScriptArtifact;
