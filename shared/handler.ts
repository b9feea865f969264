/**
 * `createValidatorHandler(validator)`: the Lambda handler of a validator, i.e. the validation as the
 * handler body behind Powertools logging and the restore lifecycle middleware.
 * `functions/<type>/handler.ts` is one call of this.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import './lambda-check';
import {
  type LifecycleOptions,
  type LifecycleResult,
  restoreLifecycle,
  validateRestoreJob,
} from './lifecycle';
import { logger } from './logger';
import type { ValidatorDefinition } from './validator';

// biome-ignore lint/complexity/noBannedTypes: a validator that declares no settings has none
export function createValidatorHandler<F, S extends object = {}>(
  validator: ValidatorDefinition<F, S>,
  options: Omit<LifecycleOptions, 'validator'> = {},
): middy.MiddyfiedHandler<unknown, LifecycleResult, Error, Context> {
  return middy<unknown, LifecycleResult, Error, Context>()
    .use(injectLambdaContext(options.logger ?? logger, { resetKeys: true }))
    .use(restoreLifecycle({ ...options, validator }))
    .handler(validateRestoreJob);
}
