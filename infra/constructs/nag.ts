import { CfnResource } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * A cdk-nag suppression: the rule, why, and optionally the findings it covers (`appliesTo`: exact
 * finding ids, or `{ regex: '/…/flags' }`), as cdk-nag's own `NagPackSuppression`.
 */
export interface NagSuppression {
  readonly id: string;
  readonly reason: string;
  readonly appliesTo?: ReadonlyArray<string | { readonly regex: string }>;
}

/** The resource metadata key cdk-nag reads its suppressions from. */
const METADATA_KEY = 'cdk_nag';

interface CfnSuppression {
  readonly reason: string;
  readonly id: string;
  readonly applies_to?: NagSuppression['appliesTo'];
  readonly is_reason_encoded?: true;
}

/**
 * Suppresses cdk-nag rules on `constructs` (the L1 resource of each, or with `applyToChildren` every
 * L1 resource under each) without depending on cdk-nag: it writes the `cdk_nag` metadata exactly as
 * cdk-nag's `NagSuppressions.addResourceSuppressions` does (2.38: `rules_to_suppress`, reasons
 * with characters past U+00FF base64-encoded, duplicates dropped), so a team that runs cdk-nag over
 * its app sees Tandem's reasons, and a team that does not needs no cdk-nag installed.
 */
export function addNagSuppressions(
  constructs: IConstruct | readonly IConstruct[],
  suppressions: readonly NagSuppression[],
  applyToChildren = false,
): void {
  const targets: readonly IConstruct[] = Array.isArray(constructs) ? constructs : [constructs];
  if (targets.length === 0) throw new Error('addNagSuppressions: no construct to suppress rules on');
  for (const construct of targets) {
    for (const suppression of suppressions) assertValid(construct, suppression);
    for (const child of applyToChildren ? construct.node.findAll() : [construct])
      addRules(child, suppressions);
  }
}

/** Adds the rules to the metadata of `child`'s L1 resource (its default child, or itself). */
function addRules(child: IConstruct, suppressions: readonly NagSuppression[]): void {
  const resource = child.node.defaultChild ?? child;
  if (!(resource instanceof CfnResource)) return;
  const existing = (
    resource.getMetadata(METADATA_KEY) as { rules_to_suppress?: CfnSuppression[] } | undefined
  )?.rules_to_suppress;
  const rules = [...(existing ?? []), ...suppressions.map(toCfnFormat)].map((rule) => JSON.stringify(rule));
  resource.addMetadata(METADATA_KEY, {
    rules_to_suppress: [...new Set(rules)].map((rule) => JSON.parse(rule) as CfnSuppression),
  });
}

function toCfnFormat({ id, reason, appliesTo }: NagSuppression): CfnSuppression {
  const rest = { id, ...(appliesTo ? { applies_to: appliesTo } : {}) };
  return [...reason].some((c) => (c.codePointAt(0) ?? 0) > 255)
    ? { reason: Buffer.from(reason).toString('base64'), ...rest, is_reason_encoded: true }
    : { reason, ...rest };
}

/** The checks cdk-nag makes when it reads a suppression, made when it is written instead. */
function assertValid(construct: IConstruct, { id, reason, appliesTo }: NagSuppression): void {
  const problems = [
    ...(reason.length < 10 ? ['its reason must have 10 characters or more'] : []),
    ...(appliesTo ?? []).flatMap((finding) =>
      typeof finding === 'string' || isRegex(finding.regex)
        ? []
        : [`appliesTo regex ${finding.regex} is not a valid /pattern/flags`],
    ),
  ];
  if (problems.length > 0)
    throw new Error(`${construct.node.path}: cdk-nag suppression ${id}: ${problems.join('; ')}`);
}

function isRegex(text: string): boolean {
  const parts = /^\/(.*)\/([a-z]*)$/s.exec(text);
  try {
    return parts !== null && new RegExp(parts[1] ?? '', parts[2]) instanceof RegExp;
  } catch {
    return false;
  }
}
