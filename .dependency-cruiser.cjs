/**
 * Tandem's import structure, checked by `npm test` and `npm run test:fast` (scripts/test.ts): no
 * cycles, and layers that run one way.
 *
 *   shipped code   infra/ functions/ shared/ client/  — what the package ships; imports no tooling
 *   dev tooling    dev/ (emulator, deploy, build, bench, chaos, …) and sim/ (the simulation)
 *   entry points   scripts/ (npm scripts) and test/ — each imports the layers above, never the other
 *
 * Type-only imports count: a cycle through `import type` still ties two modules into one.
 * The console's page (console/src, .tsx) is left to Biome's noImportCycles: this parser (swc, as
 * the TypeScript 7 compiler has no JavaScript API) reads TypeScript without JSX.
 */
/** A forbidden dependency: from a module matching `from` to one matching `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: 'error', from, to });

module.exports = {
  forbidden: [
    forbid('no-circular', 'Modules import each other one way only.', {}, { circular: true }),
    forbid(
      'types-import-nothing',
      'A types module holds the shapes others build on, so it depends on nothing.',
      { path: '(^|/)types\\.ts$' },
      {},
    ),
    forbid(
      'tests-not-to-scripts',
      'Tests use the tooling in dev/ and sim/, never an npm script.',
      { path: '^test/' },
      { path: '^scripts/' },
    ),
    forbid(
      'scripts-not-to-tests',
      'Scripts use the tooling in dev/ and sim/, never a test file or test support.',
      { path: '^scripts/' },
      { path: '^test/' },
    ),
    forbid(
      'tooling-not-to-entry-points',
      'dev/ and sim/ serve scripts and tests alike, so they import neither.',
      { path: '^(dev|sim)/' },
      { path: '^(scripts|test)/' },
    ),
    forbid(
      'infra-not-to-adapters',
      'The constructs describe resources; AWS adapters run inside the functions.',
      { path: '^infra/' },
      { path: '^shared/adapters/' },
    ),
    forbid(
      'shipped-not-to-tooling',
      'What the package ships never imports tooling or tests. infra/app.ts, this repository’s own CDK app, builds the bundles first.',
      { path: '^(infra|functions|shared|client)/', pathNot: '^infra/app\\.ts$' },
      { path: '^(dev|sim|scripts|test|examples)/' },
    ),
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.tsx$' },
  },
};
