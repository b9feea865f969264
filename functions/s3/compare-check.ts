import type { CheckDefinition } from '../../shared/checks';
import { defineCheck, errored } from '../../shared/checks';
import type { CheckConfig } from '../../shared/config/index';
import type { ValidationContext } from '../../shared/validator';
import type { S3Facts } from './validator';

export async function planCompare(_ctx: ValidationContext, _facts: S3Facts): Promise<void> {}

export function compareCheck(c: CheckConfig): CheckDefinition<S3Facts> {
  return defineCheck<S3Facts>({ id: c.id, run: () => errored('compare is not implemented yet') });
}
