/**
 * The API a validator publishes to check extension layers (addCheck) before importing them. Built
 * from the light modules every validator bundle already carries — not from index.ts, which would pull
 * every SQL driver and the CLI helpers into every Lambda. Names outside this set (SqlSession,
 * SqlStatementError, createValidatorHandler, …) are `undefined` inside a layer: compare errors by
 * `name` there (`err.name === 'SqlStatementError'`).
 */
import * as zod from 'zod';
import { parseArn } from './arn';
import { checkImplementation, registerCheckImplementation } from './check-implementations';
import { defineCheck, errored, fail, pass, runChecks, skip } from './checks';
import { createClients, registerClients, sdkClientConfig } from './clients';
import { checkBase, checkKind, checkKinds, registerCheckKind } from './config/kinds/registry';
import { defineSettings, setting } from './env';
import {
  ConfigError,
  ResourceStateError,
  RestoreValidationError,
  reasonOf,
  SafetyGuardError,
} from './errors';
import {
  assertCreatedByUs,
  assertRestoreTestResource,
  CREATED_BY_TAG,
  isRestoreTestResource,
  RESTORE_TEST_TAG,
} from './guard';
import { localRestoreJob } from './job';
import { RestoreMetadata } from './metadata';
import { compileGlob, compileRegex, RegexSyntaxError } from './regex';
import { RESOURCE_TYPES } from './resource-types';
import { withRetry } from './retry';
import { quoteIdentifier, quoteTable } from './sql/identifiers';
import { DeferredValidation, defineValidator, runValidator } from './validator';
import { decideVerdict } from './verdict/decide';

/**
 * The schema builders a layer needs for `registerCheckKind`, from this process's zod so its schemas
 * compose with the config schema. Not the whole namespace: publishing \`zod\` itself would keep every
 * zod export (40 locales, JSON Schema conversion) in every validator bundle, about 260 kB each.
 */
const z = {
  any: zod.any,
  array: zod.array,
  bigint: zod.bigint,
  boolean: zod.boolean,
  coerce: zod.coerce,
  custom: zod.custom,
  date: zod.date,
  discriminatedUnion: zod.discriminatedUnion,
  email: zod.email,
  enum: zod.enum,
  instanceof: zod.instanceof,
  int: zod.int,
  intersection: zod.intersection,
  iso: zod.iso,
  lazy: zod.lazy,
  literal: zod.literal,
  looseObject: zod.looseObject,
  looseRecord: zod.looseRecord,
  map: zod.map,
  nativeEnum: zod.nativeEnum,
  never: zod.never,
  null: zod.null,
  nullable: zod.nullable,
  nullish: zod.nullish,
  number: zod.number,
  object: zod.object,
  optional: zod.optional,
  partialRecord: zod.partialRecord,
  pipe: zod.pipe,
  preprocess: zod.preprocess,
  record: zod.record,
  refine: zod.refine,
  set: zod.set,
  strictObject: zod.strictObject,
  string: zod.string,
  stringbool: zod.stringbool,
  superRefine: zod.superRefine,
  transform: zod.transform,
  tuple: zod.tuple,
  undefined: zod.undefined,
  union: zod.union,
  unknown: zod.unknown,
  url: zod.url,
  uuid: zod.uuid,
  ZodError: zod.ZodError,
  ZodType: zod.ZodType,
  prettifyError: zod.prettifyError,
};

export function extensionHostApi(): Record<string, unknown> {
  return {
    defineCheck,
    errored,
    fail,
    pass,
    runChecks,
    skip,
    DeferredValidation,
    defineValidator,
    runValidator,
    defineSettings,
    setting,
    checkBase,
    checkKind,
    checkKinds,
    registerCheckKind,
    checkImplementation,
    registerCheckImplementation,
    localRestoreJob,
    RestoreMetadata,
    parseArn,
    RESOURCE_TYPES,
    quoteIdentifier,
    quoteTable,
    assertCreatedByUs,
    assertRestoreTestResource,
    isRestoreTestResource,
    CREATED_BY_TAG,
    RESTORE_TEST_TAG,
    ConfigError,
    ResourceStateError,
    RestoreValidationError,
    SafetyGuardError,
    reasonOf,
    withRetry,
    createClients,
    registerClients,
    sdkClientConfig,
    compileRegex,
    compileGlob,
    RegexSyntaxError,
    decideVerdict,
    z,
  };
}
