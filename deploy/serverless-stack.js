// Bridge from serverless.yml to stack.ts: the stage's config is validated with the same code the Lambdas use,
// so a bad dataset config fails `sls package` with the bad field named.
const { readFileSync } = require('node:fs');
const { join } = require('node:path');
const { require: tsxRequire } = require('tsx/cjs/api');

const ROOT = join(__dirname, '..');
const cache = new Map();

function stackFor(stage) {
  if (!cache.has(stage)) {
    const { loadConfigFile } = tsxRequire('../domain/config/index.ts', __filename);
    const { buildStack } = tsxRequire('./stack.ts', __filename);
    // SLUICE_CONFIG_FILE lets the tests package a deliberately broken config.
    const configFile = process.env.SLUICE_CONFIG_FILE || join(ROOT, 'config', `${stage}.json`);
    const config = loadConfigFile(configFile);
    if (config.stage !== stage) throw new Error(`${configFile} declares stage '${config.stage}', not '${stage}'`);
    const asl = readFileSync(join(ROOT, 'state-machines', 'sluice.asl.json'), 'utf8');
    cache.set(stage, buildStack(config, stage, asl));
  }
  return cache.get(stage);
}

const stageOf = ({ options }) => options.stage || 'dev';

module.exports = {
  settings: (ctx) => stackFor(stageOf(ctx)).settings,
  functions: (ctx) => stackFor(stageOf(ctx)).functions,
  definition: (ctx) => stackFor(stageOf(ctx)).definition,
  resources: (ctx) => stackFor(stageOf(ctx)).resources,
};
