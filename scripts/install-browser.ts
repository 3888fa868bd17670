/** `npm run browser:install`: the Chromium the console's browser test drives (no-op when present). */
import { ensureChromium } from '../dev/browser';
import { SetupError } from '../dev/emulator';

try {
  const path = ensureChromium((line) => console.log(`[tandem] ${line}`));
  console.log(`[tandem] Chromium ready: ${path}`);
} catch (error) {
  console.error(`[tandem] ${error instanceof SetupError ? error.message : (error as Error).stack}`);
  process.exit(1);
}
