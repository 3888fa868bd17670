/**
 * `npm run build`: builds what the package ships into dist/ (dev/build.ts): the Lambda
 * bundles, only those whose inputs changed unless `--force`, then the library's JavaScript and
 * declarations. `--lambda` builds the bundles alone (what a synth of this repository needs).
 */
import { buildLambdaCode, buildLibrary } from '../dev/build';
import { SetupError } from '../dev/emulator';

const args = process.argv.slice(2);
const unknown = args.filter((arg) => !['--lambda', '--force'].includes(arg));
if (unknown.length > 0) {
  console.error(`usage: tsx scripts/build.ts [--lambda] [--force] (unknown: ${unknown.join(' ')})`);
  process.exit(2);
}
try {
  const lambda = await buildLambdaCode({ force: args.includes('--force') });
  console.log(
    `[tandem] Lambda code: ${lambda.built.length} built${lambda.built.length ? ` (${lambda.built.join(', ')})` : ''}, ` +
      `${lambda.upToDate.length} up to date, in ${lambda.ms} ms (dist/lambda)`,
  );
  if (!args.includes('--lambda'))
    console.log(`[tandem] library: built in ${buildLibrary().ms} ms (dist/lib)`);
} catch (error) {
  console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
