/**
 * `npm run console -- [--stack <name>] [--endpoint <url>] [--port <n>] [--host 127.0.0.1]
 * [--audit <file>]`: the operator console's local server (issue 18). Same target, region and
 * credentials as `npm run ops`; loopback only; prints the URL with this session's token.
 */
import { parseArgs } from 'node:util';
import { buildConsoleAssets } from '../dev/console-assets';
import { assertLoopback, startConsole } from '../shared/console/server';
import { awsDeps } from '../shared/ops/aws';
import { loadStackNames } from '../shared/ops/cli';
import { AwsCallError, describeAwsError, RefusedError, UsageError } from '../shared/ops/errors';
import { callerIdentity } from '../shared/ops/identity';
import { resolveTarget } from '../shared/ops/target';

try {
  const { values } = parseArgs({
    options: {
      stack: { type: 'string' },
      endpoint: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      audit: { type: 'string' },
    },
    strict: true,
  });
  const port = values.port === undefined ? 0 : Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new UsageError(`--port: '${values.port}' is not a port`);
  if (values.host !== undefined) assertLoopback(values.host);
  const target = resolveTarget(
    {
      ...(values.stack ? { stack: values.stack } : {}),
      ...(values.endpoint ? { endpoint: values.endpoint } : {}),
    },
    process.env,
  );
  const deps = awsDeps(target, process.env);
  const names = await loadStackNames(target, deps);
  const who = await callerIdentity(target);
  const assetsDir = await buildConsoleAssets();
  const running = await startConsole({
    deps,
    names,
    port,
    who,
    assetsDir,
    ...(values.host ? { host: values.host } : {}),
    ...(values.audit ? { auditPath: values.audit } : {}),
  });
  process.stdout.write(
    `Tandem console for stack ${names.stackName} as ${who}${target.endpoint ? ` at ${target.endpoint}` : ''}:\n  ${running.sessionUrl}\n(Ctrl-C stops it; the token is valid for this run only.)\n`,
  );
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
} catch (error) {
  const message =
    error instanceof UsageError || error instanceof RefusedError || error instanceof AwsCallError
      ? error.message
      : describeAwsError(error);
  process.stderr.write(`error: ${message}\n`);
  process.exitCode =
    error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS') ? 2 : 1;
}
