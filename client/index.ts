/**
 * `tandem/client`: the typed HTTP client of a Tandem deployment's API (TandemClient).
 */
export {};
