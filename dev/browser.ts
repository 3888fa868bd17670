/**
 * The headless browser the console's browser test drives: the system's Chromium (Debian's
 * `chromium` package), found on the PATH or installed with apt-get when this user may. Playwright's
 * own browser download is not used: `playwright-core` drives whatever Chromium it is given.
 *
 * TANDEM_CHROMIUM names a Chromium binary to use instead.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { SetupError } from './emulator';

const CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const APT_PACKAGE = 'chromium';

/** A working Chromium binary's path, or undefined. */
function findChromium(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = env.TANDEM_CHROMIUM;
  if (given) {
    if (!works(given)) throw new SetupError(`TANDEM_CHROMIUM=${given} does not run (\`${given} --version\`)`);
    return given;
  }
  return CANDIDATES.find(works);
}

function works(path: string): boolean {
  if (!existsSync(path)) return false;
  const probe = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  return probe.status === 0;
}

/**
 * The Chromium to drive; installs Debian's package when there is none (as root, or with
 * passwordless sudo). Throws a SetupError saying what to run otherwise.
 */
export function ensureChromium(log: (line: string) => void = () => {}): string {
  const found = findChromium();
  if (found) return found;
  const asRoot = process.getuid?.() === 0;
  const sudo = !asRoot && spawnSync('sudo', ['-n', 'true']).status === 0;
  const hasApt = spawnSync('apt-get', ['--version']).status === 0;
  const manual =
    'Install Chromium (Debian/Ubuntu: `sudo apt-get install chromium`), or set TANDEM_CHROMIUM to a Chromium or Chrome binary.';
  if (!hasApt || !(asRoot || sudo)) {
    throw new SetupError(`the console's browser test needs Chromium and none was found. ${manual}`);
  }
  const apt = (args: string[]) =>
    spawnSync(asRoot ? 'apt-get' : 'sudo', [...(asRoot ? [] : ['-n', 'apt-get']), ...args], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  const install = ['install', '-y', '--no-install-recommends', APT_PACKAGE];
  log(`installing Debian's ${APT_PACKAGE} (apt-get ${install.join(' ')}) …`);
  let result = apt(install);
  if (result.status !== 0) {
    log('apt-get install failed; refreshing the package lists (apt-get update) and trying again …');
    apt(['update']);
    result = apt(install);
  }
  const path = findChromium();
  if (result.status !== 0 || !path) {
    const output = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-10).join('\n');
    throw new SetupError(`could not install ${APT_PACKAGE} with apt-get:\n${output}\n${manual}`);
  }
  return path;
}
