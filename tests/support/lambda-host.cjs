// One Lambda execution environment for the artifact suite: a plain Node process that loads a function's bundle
// from its unzipped package (the handler string from the template, e.g. functions/start-job-run.handler) and runs
// one invocation at a time. Errors are reported as the Node.js runtime reports them: errorType is `error.name`
// (https://docs.aws.amazon.com/lambda/latest/dg/nodejs-exceptions.html), so a minified class name would show here.
const { join } = require('node:path');

const [taskRoot, handlerSpec] = process.argv.slice(2);
const dot = handlerSpec.lastIndexOf('.');
// Init phase: the bundle is loaded before the first invocation, outside the function's timeout, as Lambda does.
let handler;
let initError;
try {
  handler = require(join(taskRoot, handlerSpec.slice(0, dot)))[handlerSpec.slice(dot + 1)];
  if (typeof handler !== 'function') throw new Error(`${handlerSpec} is not a function in the package`);
} catch (error) {
  initError = error;
}

function context(requestId, deadline) {
  return {
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: process.env.SLUICE_TEST_FUNCTION_ARN,
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${process.env.AWS_LAMBDA_FUNCTION_NAME}`,
    logStreamName: 'artifact-suite',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

process.on('message', async ({ id, event, deadline }) => {
  try {
    if (initError) throw initError;
    const result = await handler(event, context(id, deadline));
    process.send({ id, ok: true, result: result === undefined ? null : result });
  } catch (error) {
    const e = error ?? {};
    process.send({
      id,
      ok: false,
      error: {
        errorType: typeof e.name === 'string' ? e.name : 'Error',
        errorMessage: typeof e.message === 'string' ? e.message : String(error),
        trace: typeof e.stack === 'string' ? e.stack.split('\n') : [],
      },
    });
  }
});
process.send({ ready: true });
