/**
 * Error hierarchy. Every error the project raises on purpose is a RestoreValidationError with a
 * `name`, a readable message (what was wrong, the bad value, the fix) and the `cause` it wraps.
 */
export class RestoreValidationError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'RestoreValidationError';
  }
}

/** The incoming event is not a restore job event we can act on. Carries the offending field. */
export class EventParseError extends RestoreValidationError {
  readonly field: string;
  constructor(field: string, message: string, options?: ErrorOptions) {
    super(`invalid Restore Job State Change event: ${field}: ${message}`, options);
    this.name = 'EventParseError';
    this.field = field;
  }
}

/** Where in a file: 1-based line and column (editors and CI annotations read `file:line:column`). */
export interface FilePosition {
  readonly line: number;
  readonly column: number;
}

/** The configuration file is invalid. `file`, `path` and (for YAML/JSON text) `position` locate the problem. */
export class ConfigError extends RestoreValidationError {
  readonly file: string;
  readonly path: string;
  readonly position?: FilePosition;
  constructor(
    file: string,
    path: string,
    message: string,
    options?: ErrorOptions & { position?: FilePosition },
  ) {
    const at = options?.position ? `:${options.position.line}:${options.position.column}` : '';
    super(`${file}${at}${path ? ` at ${path}` : ''}: ${message}`, options);
    this.name = 'ConfigError';
    this.file = file;
    this.path = path;
    this.position = options?.position;
  }
}

/** A validator was asked to touch something that is not a restore-test resource. */
export class SafetyGuardError extends RestoreValidationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'SafetyGuardError';
  }
}

/** The restored resource is not in a state in which it can be validated (a verdict, not a crash). */
export class ResourceStateError extends RestoreValidationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ResourceStateError';
  }
}

/** A piece of work ran past its deadline. */
export class DeadlineExceededError extends RestoreValidationError {
  constructor(what: string, ms: number) {
    super(`${what} timed out after ${ms} ms`);
    this.name = 'DeadlineExceededError';
  }
}

/** Usage error in the CLI (exit code 2). */
export class UsageError extends RestoreValidationError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

/** A short, single-line reason for an unknown thrown value, without stack traces. */
export function reasonOf(err: unknown): string {
  if (err instanceof Error) {
    const name =
      err.name && err.name !== 'Error' && !(err instanceof RestoreValidationError) ? `${err.name}: ` : '';
    return `${name}${err.message}`.replace(/\s+/g, ' ').trim();
  }
  return String(err);
}

/**
 * An AWS "does not exist" error by its name (`DBInstanceNotFoundFault`, `ResourceNotFoundException`,
 * `DBClusterNotFoundFault`, …), for APIs that name every missing resource that way.
 */
export const isNotFoundError = (err: unknown): boolean =>
  /NotFound/.test((err as { name?: string } | undefined)?.name ?? '');
