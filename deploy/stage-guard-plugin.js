// Serverless Framework plugin (listed in serverless.yml): refuses `sls deploy` of a stage whose raw or curated
// bucket name does not hold the target account's id. S3 bucket names are global across all AWS accounts
// (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html), so a name without the account id
// (such as the shipped sluice-prod-raw-eu-west-1) may already belong to someone else, and the create fails half-way
// or, worse, a name an earlier stack left behind is reused. The Lambdas read the names from the stage config in
// their zip, so the config must hold the real names: this check makes the deployer write them, with the account id,
// before the first deploy. `sls package` (offline, no account) is not affected: the account is only known at deploy.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');

/** The problems with a config's bucket names for this account, each naming the stage and the field. */
function bucketNameProblems(stage, lake, accountId) {
  return ['rawBucket', 'curatedBucket']
    .filter((field) => !String(lake[field]).includes(accountId))
    .map(
      (field) =>
        `stage '${stage}': /lake/${field} '${lake[field]}' does not contain the account id ${accountId}; S3 bucket ` +
        `names are global, so set it in config/${stage}.json to a name of this account, e.g. ` +
        `'sluice-${stage}-${field === 'rawBucket' ? 'raw' : 'curated'}-${accountId}-<region>'`,
    );
}

class StageGuardPlugin {
  constructor(serverless, options) {
    this.serverless = serverless;
    this.options = options || {};
    this.provider = serverless.getProvider('aws');
    this.hooks = { 'before:deploy:deploy': () => this.checkBuckets() };
  }

  async checkBuckets() {
    const stage = this.provider.getStage();
    // The same file serverless-stack.js validated (with the Lambdas' own code) when the stack was built.
    const file = process.env.SLUICE_CONFIG_FILE || join(ROOT, 'config', `${stage}.json`);
    const { lake } = JSON.parse(readFileSync(file, 'utf8'));
    const problems = bucketNameProblems(stage, lake, await this.provider.getAccountId());
    if (problems.length > 0) throw new Error(problems.join('\n'));
  }
}

module.exports = StageGuardPlugin;
module.exports.bucketNameProblems = bucketNameProblems;
