// The Glue job's script ships as a deployment artifact: the Serverless Framework packages it beside the function
// zips (glue-script-plugin.js copies it into the package folder) and `sls deploy` uploads it to the framework's
// deployment bucket before it updates the stack, just like the function code. The key holds the script's SHA-256,
// so a changed script is a changed template (the job updates in place) and an unchanged one is not; it sits under
// the stage's deployment prefix but outside the timestamped deployment folders, which the framework prunes, and
// `sls remove` empties the whole prefix. CommonJS, so that the plugin and the stack (TypeScript) share it.
const { createHash } = require('node:crypto');
const { readFileSync } = require('node:fs');
const { join } = require('node:path');

const GLUE_SCRIPT_SOURCE = join(__dirname, '..', 'adapters', 'aws', 'glue', 'convert_partition.py');

function glueScriptArtifact(stage, service = 'sluice', deploymentPrefix = 'serverless') {
  const body = readFileSync(GLUE_SCRIPT_SOURCE);
  const sha256 = createHash('sha256').update(body).digest('hex');
  const fileName = `convert_partition-${sha256.slice(0, 16)}.py`;
  return {
    body,
    sha256,
    packagedPath: join('glue', fileName),
    key: `${deploymentPrefix}/${service}/${stage}/glue/${fileName}`,
  };
}

module.exports = { GLUE_SCRIPT_SOURCE, glueScriptArtifact };
