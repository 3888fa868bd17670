/**
 * `npm start`: starts the embedded local AWS (or uses AWS_ENDPOINT_URL / TANDEM_ENDPOINT), deploys
 * the real CDK app into it, prints the API URL with example requests, and stays up until Ctrl-C.
 */
import { deployLocal } from '../dev/deploy';
import { type Emulator, freePort, SetupError, startEmulator, userEndpoint } from '../dev/emulator';

const log = (line: string) => console.log(`[tandem] ${line}`);

async function choosePort(): Promise<number> {
  if (process.env.TANDEM_PORT) return Number(process.env.TANDEM_PORT);
  // Prefer the conventional LocalStack port when it is free, so URLs stay the same between runs.
  const probe = await import('node:net').then(
    (net) =>
      new Promise<boolean>((resolve) => {
        const server = net.createServer();
        server.once('error', () => resolve(false));
        server.listen(4566, '127.0.0.1', () => server.close(() => resolve(true)));
      }),
  );
  return probe ? 4566 : freePort();
}

async function main(): Promise<void> {
  const started = Date.now();
  let emulator: Emulator | undefined;
  const shutdown = async (code: number) => {
    if (emulator?.embedded) log('stopping the emulator …');
    await emulator?.stop();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  try {
    emulator = await startEmulator({ log, port: userEndpoint() ? undefined : await choosePort() });
    const deployment = await deployLocal(emulator.endpoint, log);
    const url = deployment.apiUrl;
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`
Tandem is running (deployed in ${seconds} s).

  API URL:  ${url}
  Stack:    ${deployment.stackName} on ${deployment.endpoint}${emulator.logFile ? `\n  Log:      ${emulator.logFile}` : ''}

Try it:
  curl -s -X POST '${url}/accounts' -H 'content-type: application/json' -d '{"accountId":"alice","initialBalance":100}'
  curl -s '${url}/accounts/alice'
  curl -s '${url}/health'

Operator console in your browser (another terminal): npm run console -- --endpoint ${deployment.endpoint}
Use the emulator from the AWS CLI or SDKs with AWS_ENDPOINT_URL=${deployment.endpoint} AWS_REGION=us-east-1.
${emulator.embedded ? 'Press Ctrl-C to stop (the embedded emulator keeps its data in memory only).' : 'Press Ctrl-C to exit (your emulator keeps running).'}`);
    await new Promise(() => {}); // stay up until a signal arrives
  } catch (error) {
    console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
    await shutdown(1);
  }
}

await main();
