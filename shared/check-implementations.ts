/**
 * Implementations of check kinds that are not tied to one validator (e.g. `lambda`), and the rule that
 * makes a profile check impossible to ignore: every check a profile lists either becomes a check of the
 * validator, a generic implementation registered here, or an `error` result naming why it cannot run.
 */
import { type CheckDefinition, errored } from './checks';
import type { CheckConfig } from './config/index';
import type { ValidationContext } from './validator';

export type CheckFactory = (check: CheckConfig, ctx: ValidationContext) => CheckDefinition<unknown>;

const factories = new Map<string, CheckFactory>();

/** Registers the implementation of a check kind usable by every validator. */
export function registerCheckImplementation(kind: string, factory: CheckFactory): void {
  factories.set(kind, factory);
}

export function checkImplementation(kind: string): CheckFactory | undefined {
  return factories.get(kind);
}

/**
 * The profile checks the validator did not turn into checks, as generic implementations or, failing
 * that, as checks that report `error` — never silently dropped.
 */
export function unhandledProfileChecks(
  ctx: ValidationContext,
  validatorName: string,
  handledIds: ReadonlySet<string>,
): CheckDefinition<unknown>[] {
  const out: CheckDefinition<unknown>[] = [];
  for (const check of ctx.profile?.checks ?? []) {
    if (handledIds.has(check.id)) continue;
    const factory = factories.get(check.kind);
    out.push(
      factory
        ? factory(check, ctx)
        : {
            id: check.id,
            run: () =>
              errored(`check kind "${check.kind}" is not supported by the ${validatorName} validator`),
          },
    );
  }
  return out;
}
