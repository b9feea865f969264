/**
 * The CDK side of the package (`import { RestoreValidation } from 'restore-validation/infra'`): the
 * construct, the operations construct docs/operations.md wires beside it, restore testing plans,
 * the central evidence account constructs and the ready-made stack.
 */
export * from './constructs/central';
export {
  OperationsPropsError,
  RestoreValidationOperations,
  type RestoreValidationOperationsProps,
} from './constructs/operations';
export { RestoreTesting, type RestoreTestingProps } from './constructs/restore-testing';
export * from './restore-validation';
export { propsFromContext, RestoreValidationStack, type RestoreValidationStackProps } from './stack';
