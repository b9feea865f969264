/**
 * The API a validator publishes to check extension layers (addCheck) before importing them. Built
 * from the light modules every validator bundle already carries — not from index.ts, which would pull
 * every SQL driver and the CLI helpers into every Lambda. Names outside this set (SqlSession,
 * SqlStatementError, createValidatorHandler, …) are `undefined` inside a layer: compare errors by
 * `name` there (`err.name === 'SqlStatementError'`).
 */
import { z } from 'zod';
import { parseArn } from './arn';
import { checkImplementation, registerCheckImplementation } from './check-implementations';
import { defineCheck, errored, fail, pass, runChecks, skip } from './checks';
import { createClients, registerClients } from './clients';
import { checkBase, checkKind, checkKinds, registerCheckKind } from './config/kinds/registry';
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
import { RESOURCE_TYPES } from './resource-types';
import { withRetry } from './retry';
import { quoteIdentifier, quoteTable } from './sql/identifiers';
import { DeferredValidation, defineValidator, runValidator } from './validator';
import { decideVerdict } from './verdict';

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
    decideVerdict,
    z,
  };
}
