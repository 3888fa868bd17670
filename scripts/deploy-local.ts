/**
 * `npm run deploy:local`: deploys the CDK app into an already running LocalStack or ministack
 * (AWS_ENDPOINT_URL or TANDEM_ENDPOINT, default http://localhost:4566) and prints the API URL.
 */
import { deployLocal } from '../dev/deploy';
import { SetupError, userEndpoint } from '../dev/emulator';

const endpoint = userEndpoint() ?? 'http://localhost:4566';
try {
  const probe = await fetch(endpoint).catch(() => undefined);
  if (!probe) {
    throw new SetupError(
      `no emulator answers at ${endpoint}. Start LocalStack or ministack there, or set AWS_ENDPOINT_URL ` +
        'to where yours listens; `npm start` starts an embedded one instead.',
    );
  }
  const deployment = await deployLocal(endpoint, (line) => console.log(`[tandem] ${line}`));
  console.log(`API URL: ${deployment.apiUrl}`);
} catch (error) {
  console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
