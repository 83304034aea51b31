import { App } from 'aws-cdk-lib';
import { HeadstartError } from '../src/errors.js';
import { configFromContext } from './config.js';
import { HeadstartStack } from './stack.js';

/**
 * The CDK app (cdk.json: `node bin/run-ts.js infra/app.ts`). Knobs come from context:
 *   npx cdk deploy -c extractionMode=both -c spot=true -c gpuInstanceTypes=g5.xlarge
 * Account and region come from the CLI profile, as `cdk deploy` resolves them.
 */
const app = new App();
const stackName = (app.node.tryGetContext('stackName') as string | undefined) ?? 'Headstart';

try {
  new HeadstartStack(app, stackName, {
    ...configFromContext((key) => app.node.tryGetContext(key)),
    description: 'headstart: serverless transfer learning for images',
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
} catch (error) {
  // A bad -c value or a missing handler is the user's to fix: say what, without a stack trace.
  if (!(error instanceof HeadstartError)) throw error;
  console.error(`headstart: ${error.message}`);
  process.exit(1);
}

app.synth();
