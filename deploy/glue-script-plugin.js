// Serverless Framework plugin (listed in serverless.yml): ships the Glue job's script as a deployment artifact.
// - package: writes the script into the package folder, under the name the template's ScriptLocation uses;
// - deploy: after the framework uploads the function zips, uploads that packaged file to the deployment bucket
//   (skipped when the content-addressed key is already there), before the stack update that needs it.
// What is uploaded is the packaged file, checked against its hash: what ships is what was packaged and tested.
// Plugin hooks: https://www.serverless.com/framework/docs/guides/plugins/custom-commands (lifecycle events).
const { createHash } = require('node:crypto');
const { mkdirSync, readFileSync, writeFileSync } = require('node:fs');
const { dirname, join } = require('node:path');
const { S3Client, HeadObjectCommand, PutObjectCommand } = require('@aws-sdk/client-s3');
const { glueScriptArtifact } = require('./glue-script.js');

class GlueScriptPlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.provider = serverless.getProvider('aws');
    this.hooks = {
      'after:aws:package:finalize:saveServiceState': () => this.packageScript(),
      'after:aws:deploy:deploy:uploadArtifacts': () => this.uploadScript(),
    };
  }

  artifact() {
    return glueScriptArtifact(
      this.provider.getStage(),
      this.serverless.service.service,
      this.provider.getDeploymentPrefix(),
    );
  }

  packageFolder() {
    return (
      this.options.package || this.serverless.service.package.path || join(this.serverless.serviceDir, '.serverless')
    );
  }

  packageScript() {
    const artifact = this.artifact();
    const target = join(this.packageFolder(), artifact.packagedPath);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, artifact.body);
  }

  async uploadScript() {
    if (this.serverless.service.provider.shouldNotDeploy) return;
    const artifact = this.artifact();
    const body = readFileSync(join(this.packageFolder(), artifact.packagedPath));
    const sha256 = createHash('sha256').update(body).digest('hex');
    if (sha256 !== artifact.sha256)
      throw new Error(
        `the packaged Glue script ${artifact.packagedPath} does not match the template's ${artifact.key}; package again`,
      );
    const bucket = await this.provider.getServerlessDeploymentBucketName();
    const s3 = new S3Client(await this.provider.getAwsSdkV3Config());
    try {
      await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: artifact.key }));
      return;
    } catch (error) {
      if (error?.$metadata?.httpStatusCode !== 404) throw error;
    }
    await s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: artifact.key,
        Body: body,
        ContentType: 'text/x-python',
        ServerSideEncryption: 'AES256',
        ChecksumAlgorithm: 'SHA256',
      }),
    );
  }
}

module.exports = GlueScriptPlugin;
