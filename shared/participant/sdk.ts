/**
 * `tandem/participant`: the runtime SDK a team uses inside its own participant handler.
 */
export {};
