import { buildLambdaCode } from '../../dev/build';

/**
 * Builds the functions' bundles that the synthesized stacks deploy (only those whose sources
 * changed since the last build): `NodeFunction` refuses to synthesize without them.
 */
export default async function setup(): Promise<void> {
  const { built, ms } = await buildLambdaCode();
  if (built.length > 0) console.log(`[infra] built Lambda code ${built.join(', ')} in ${ms} ms`);
}
