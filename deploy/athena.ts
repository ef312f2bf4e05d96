/** Athena: the stage's workgroup, its results encrypted in the artifacts bucket. */
import { ref, type Family } from './cfn';
import type { StackContext } from './context';

export function athena(ctx: StackContext): Family {
  return {
    resources: {
      AthenaWorkGroup: {
        Type: 'AWS::Athena::WorkGroup',
        Properties: {
          Name: ctx.config.athena.workgroup,
          // Lets the stack delete a workgroup that has saved queries or history.
          RecursiveDeleteOption: true,
          WorkGroupConfiguration: {
            EnforceWorkGroupConfiguration: true,
            PublishCloudWatchMetricsEnabled: true,
            ResultConfiguration: {
              OutputLocation: { 'Fn::Sub': ['s3://${Bucket}/athena-results/', { Bucket: ref('ArtifactsBucket') }] },
              EncryptionConfiguration: { EncryptionOption: 'SSE_KMS', KmsKey: ctx.keyArn },
            },
          },
        },
      },
    },
  };
}
