/**
 * `createValidatorHandler(validator)`: the Lambda handler of a validator, i.e. the validator wrapped
 * in Powertools logging and the restore lifecycle. `functions/<type>/handler.ts` is one call of this.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import './lambda-check';
import { type LifecycleOptions, type LifecycleResult, restoreLifecycle } from './lifecycle';
import { logger } from './logger';
import type { ValidatorDefinition } from './validator';

export function createValidatorHandler<F>(
  validator: ValidatorDefinition<F>,
  options: Omit<LifecycleOptions, 'validator'> = {},
): middy.MiddyfiedHandler<unknown, LifecycleResult, Error, Context> {
  return middy<unknown, LifecycleResult, Error, Context>()
    .use(injectLambdaContext(options.logger ?? logger, { resetKeys: true }))
    .use(restoreLifecycle({ ...options, validator }))
    .handler(async () => ({ outcome: 'ignored', message: 'no restore event processed' }));
}
