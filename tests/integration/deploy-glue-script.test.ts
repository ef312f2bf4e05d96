/**
 * The Serverless Framework plugin that ships the Glue job's script as a deployment artifact
 * (deploy/glue-script-plugin.js): what it packages and what `sls deploy` uploads, against a mocked S3.
 * tests/integration/deploy.test.ts checks the packaged result (the script beside the zips, the jobs' ScriptLocation).
 */
import { HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GLUE_SCRIPT_SOURCE, glueScriptArtifact } from '../../deploy/glue-script';

const ROOT = join(__dirname, '..', '..');

describe('the Glue script plugin (deploy/glue-script-plugin.js)', () => {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- a Serverless Framework plugin is CommonJS
  const GlueScriptPlugin = require('../../deploy/glue-script-plugin.js');
  const s3 = mockClient(S3Client);
  const artifact = glueScriptArtifact('dev');
  const notFound = Object.assign(new Error('NotFound'), { name: 'NotFound', $metadata: { httpStatusCode: 404 } });

  function plugin(packageDir: string, provider: Record<string, unknown> = {}) {
    const serverless = {
      service: { service: 'sluice', provider: {}, package: {} },
      serviceDir: ROOT,
      getProvider: () => ({
        getStage: () => 'dev',
        getDeploymentPrefix: () => 'serverless',
        getServerlessDeploymentBucketName: async () => 'deployment-bucket',
        getAwsSdkV3Config: async () => ({
          region: 'eu-west-1',
          credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
        }),
        ...provider,
      }),
    };
    return { instance: new GlueScriptPlugin(serverless, { package: packageDir }), serverless };
  }
  beforeEach(() => s3.reset());

  test('packaging writes the script under its content-addressed name, and deploying uploads exactly that file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-plugin-'));
    const { instance } = plugin(dir);
    await instance.hooks['after:aws:package:finalize:saveServiceState']();
    expect(readFileSync(join(dir, artifact.packagedPath))).toEqual(readFileSync(GLUE_SCRIPT_SOURCE));
    s3.on(HeadObjectCommand).rejects(notFound);
    s3.on(PutObjectCommand).resolves({});
    await instance.hooks['after:aws:deploy:deploy:uploadArtifacts']();
    const put = s3.commandCalls(PutObjectCommand)[0]!.args[0].input;
    expect(put).toMatchObject({ Bucket: 'deployment-bucket', Key: artifact.key, ServerSideEncryption: 'AES256' });
    expect(Buffer.from(put.Body as Uint8Array)).toEqual(readFileSync(GLUE_SCRIPT_SOURCE));
    rmSync(dir, { recursive: true, force: true });
  });

  test('an already uploaded script is not uploaded again, and a deploy without changes uploads nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-plugin-'));
    const { instance, serverless } = plugin(dir);
    await instance.hooks['after:aws:package:finalize:saveServiceState']();
    s3.on(HeadObjectCommand).resolves({});
    await instance.hooks['after:aws:deploy:deploy:uploadArtifacts']();
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    Object.assign(serverless.service.provider, { shouldNotDeploy: true });
    s3.reset();
    await instance.hooks['after:aws:deploy:deploy:uploadArtifacts']();
    expect(s3.calls()).toHaveLength(0);
    rmSync(dir, { recursive: true, force: true });
  });

  test('a packaged script that differs from the one the template names is refused, and nothing is uploaded', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-plugin-'));
    const { instance } = plugin(dir);
    await instance.hooks['after:aws:package:finalize:saveServiceState']();
    writeFileSync(join(dir, artifact.packagedPath), '# edited after packaging\n');
    s3.on(HeadObjectCommand).rejects(notFound);
    await expect(instance.hooks['after:aws:deploy:deploy:uploadArtifacts']()).rejects.toThrow(/does not match/);
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    rmSync(dir, { recursive: true, force: true });
  });

  test('an S3 error other than 404 stops the deploy instead of being read as "not uploaded yet"', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sluice-plugin-'));
    const { instance } = plugin(dir);
    await instance.hooks['after:aws:package:finalize:saveServiceState']();
    s3.on(HeadObjectCommand).rejects(
      Object.assign(new Error('Forbidden'), { name: 'Forbidden', $metadata: { httpStatusCode: 403 } }),
    );
    await expect(instance.hooks['after:aws:deploy:deploy:uploadArtifacts']()).rejects.toThrow('Forbidden');
    expect(s3.commandCalls(PutObjectCommand)).toHaveLength(0);
    rmSync(dir, { recursive: true, force: true });
  });
});
