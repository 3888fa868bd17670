/** `npm run emulator:install`: installs the pinned ministack into .tandem/venv (no-op when present). */
import { ensureMinistack, MINISTACK_VERSION, SetupError } from '../dev/emulator';

try {
  const bin = ensureMinistack((line) => console.log(`[tandem] ${line}`));
  console.log(`[tandem] ministack ${MINISTACK_VERSION} ready: ${bin}`);
} catch (error) {
  console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
