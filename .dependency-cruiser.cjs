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
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Modules import each other one way only.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'types-import-nothing',
      severity: 'error',
      comment: 'A types module holds the shapes others build on, so it depends on nothing.',
      from: { path: '(^|/)types\\.ts$' },
      to: {},
    },
    {
      name: 'tests-not-to-scripts',
      severity: 'error',
      comment: 'Tests use the tooling in dev/ and sim/, never an npm script.',
      from: { path: '^test/' },
      to: { path: '^scripts/' },
    },
    {
      name: 'scripts-not-to-tests',
      severity: 'error',
      comment: 'Scripts use the tooling in dev/ and sim/, never a test file or test support.',
      from: { path: '^scripts/' },
      to: { path: '^test/' },
    },
    {
      name: 'tooling-not-to-entry-points',
      severity: 'error',
      comment: 'dev/ and sim/ serve scripts and tests alike, so they import neither.',
      from: { path: '^(dev|sim)/' },
      to: { path: '^(scripts|test)/' },
    },
    {
      name: 'infra-not-to-adapters',
      severity: 'error',
      comment: 'The constructs describe resources; AWS adapters run inside the functions.',
      from: { path: '^infra/' },
      to: { path: '^shared/adapters/' },
    },
    {
      name: 'shipped-not-to-tooling',
      severity: 'error',
      comment:
        'What the package ships never imports tooling or tests. infra/app.ts, this repository’s own CDK app, builds the bundles first.',
      from: { path: '^(infra|functions|shared|client)/', pathNot: '^infra/app\\.ts$' },
      to: { path: '^(dev|sim|scripts|test|examples)/' },
    },
  ],
  options: {
    parser: 'swc',
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.tsx$' },
  },
};
