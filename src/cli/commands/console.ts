import { intOption, parse } from '../args.js';
import { type Command, untilStopped, UsageError } from '../io.js';

export const consoleCommand: Command = {
  name: 'console',
  summary: 'the web console on this machine for a deployed API: the page served here, API calls signed with your AWS credentials (or passed with your API key)',
  usage: 'headstart console --api <ApiUrl, e.g. https://abc123.execute-api.eu-west-1.amazonaws.com/v1> [--auth iam|apiKey] [--region <region>] [--port 8080] [--host 127.0.0.1]',
  async run(args, io) {
    const { values } = parse(args, { api: { type: 'string' }, auth: { type: 'string' }, region: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' } });
    const auth = values.auth ?? 'iam';
    if (auth !== 'iam' && auth !== 'apiKey') throw new UsageError(`--auth must be 'iam' (SigV4, the stack's default apiAuth) or 'apiKey', got '${auth}'.`);
    if (!values.api) throw new UsageError("--api is required: the deployed API's URL (the stack's ApiUrl output). Locally, npm start serves the console itself at /console/.");
    // Loaded on demand: the other commands need none of the server code.
    const { startConsoleServer } = await import('../../../local/console/server.js');
    // IAM: the standard provider chain (environment, ~/.aws profiles, SSO, instance roles), as the AWS CLI finds them.
    const sign = auth === 'iam'
      ? { region: values.region ?? process.env.AWS_REGION, credentials: (await import('@aws-sdk/credential-provider-node')).defaultProvider() }
      : undefined;
    const server = await startConsoleServer({ api: values.api, port: intOption(values.port, 'port', 8080, 0), host: values.host, sign });
    io.out(
      [
        `headstart console for ${values.api}`,
        `  open       ${server.url}`,
        auth === 'iam'
          ? '  auth       every API call signed with SigV4 from your AWS credentials (they stay in this process); POST /train also takes the API key the console asks for'
          : '  API key    the console asks for it (aws apigateway get-api-key --include-value --api-key <ApiKeyId>); it stays in the browser tab',
        `  uploads    go from the browser to the bucket: its corsOrigins must allow ${new URL(server.url).origin}`,
        'Ctrl-C stops.',
      ].join('\n'),
    );
    await untilStopped();
    await server.close();
    return 0;
  },
};
