/**
 * The CDK side of extending restore-validation (docs/extending.md):
 *
 * - {@link CustomValidator} (`RestoreValidation.addValidator({ match, entry })`): a user's validator
 *   module bundled into its own Lambda with the shared lifecycle, the same settings, permissions,
 *   dead-letter queue and alarms as the built-in validators, and an EventBridge rule for its resource
 *   type(s). Its `match` *claims* those jobs: every validator function gets the list of claims
 *   (`RESTORE_VALIDATION_VALIDATORS`) and the lifecycle lets exactly one of them post the verdict.
 * - {@link CheckExtension} (`RestoreValidation.addCheck({ entry })`): a module that registers a check
 *   kind (schema + implementation), shipped as a Lambda layer to the built-in validators, which import
 *   it at cold start (`RESTORE_VALIDATION_EXTENSIONS`) before reading the config.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import {
  AssetHashType,
  DockerImage,
  Duration,
  aws_lambda_destinations as destinations,
  aws_events as events,
  type aws_iam as iam,
  aws_lambda as lambda,
  aws_events_targets as targets,
} from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import type { Match } from '../../shared/config/index';
import { matchSchema } from '../../shared/config/index';
import { EXTENSIONS_ENV, VALIDATOR_CLAIMS_ENV, type ValidatorClaim } from '../../shared/extend';
import { type ResourceType, type ValidatorType, validatorTypeFor } from '../../shared/resource-types';
import { BUNDLE_FILE, esbuildOptions, PROJECT_ROOT } from '../bundling';
import { ARCHITECTURE, NODE_RUNTIME, onceAlarm, ownLogsAndRole } from '../core';
import { restoreCompletedPattern, type ValidatorHost } from './validator-function';

/** Which restore jobs a custom validator takes: the keys and globs of a profile's `match`; resourceType is required. */
export type ValidatorMatch = Omit<Match, 'resourceType'> & {
  readonly resourceType: ResourceType | readonly ResourceType[];
};

export interface AddValidatorProps {
  /** The validator module: exports `validator` (a `defineValidator()` value) or a default export. */
  readonly entry: string;
  /** The jobs this validator validates instead of the built-in one. */
  readonly match: ValidatorMatch;
  /**
   * The validator's name (`defineValidator({ name })`); checked against the module at cold start.
   * @default - read from the module's `defineValidator({ name: '...' })`
   */
  readonly name?: string;
  /** @default the construct's memorySize (1024) */
  readonly memorySize?: number;
  /** @default the construct's timeout (10 minutes) */
  readonly timeout?: Duration;
  /**
   * Run in the construct's VPC with its validator security group (to reach restored instances or
   * databases on private addresses).
   * @default false
   */
  readonly inVpc?: boolean;
  /** Extra statements for the validator's role (the built-in type's read permissions are included). @default - none */
  readonly permissions?: readonly iam.PolicyStatement[];
  /** Extra environment, readable as `ctx.settings`. @default - none */
  readonly environment?: Readonly<Record<string, string>>;
}

export interface AddCheckProps {
  /** A module that calls `registerCheckKind` and `registerCheckImplementation`, importing only `restore-validation`. */
  readonly entry: string;
  /**
   * Validator types that load it.
   * @default - every deployed built-in validator and every custom validator
   */
  readonly types?: readonly ValidatorType[];
}

/** What the main construct shares with its extensions (built once in its constructor). */
export interface ExtensionHost extends ValidatorHost {
  readonly scope: Construct;
  /** The validated config, as JSON, copied into each bundle like the built-ins'. */
  readonly bundledConfigFile: string;
  readonly bundledConfigName: string;
  /** Memory of a custom validator unless it says. */
  readonly memorySize: number;
  /** Timeout of a custom validator unless it says. */
  readonly timeout: Duration;
  /** Built-in validator functions (they receive the claims and check extensions). */
  readonly builtIns: Readonly<Partial<Record<ValidatorType, lambda.Function>>>;
  /** The built-in type's read permissions, scoped by the config. */
  grantType(role: iam.Role, type: ValidatorType): void;
}

const NAME = /^[a-z][a-z0-9-]{0,39}$/;

/** The name in `defineValidator({ name: '...' })`, when the module spells it literally. */
export function validatorNameIn(source: string): string | undefined {
  return /defineValidator\s*(?:<[^>]*>)?\s*\(\s*\{[^}]*?\bname\s*:\s*['"]([a-z][a-z0-9-]{0,39})['"]/s.exec(
    source,
  )?.[1];
}

/** The handler module bundled for a custom validator: the shared lifecycle around the user's validator. */
export function customValidatorHandlerSource(entry: string, name: string): string {
  const handlerPath = join(PROJECT_ROOT, 'shared', 'handler.ts');
  return `import { createValidatorHandler } from ${JSON.stringify(handlerPath)};
import * as mod from ${JSON.stringify(entry)};
const isValidator = (v) => Boolean(v) && typeof v === 'object' && typeof v.gather === 'function' && typeof v.checks === 'function';
const others = Object.values(mod).filter(isValidator);
const validator = [mod.validator, mod.default, mod.default && mod.default.validator, mod.cliTarget && mod.cliTarget.validator].find(isValidator) ?? (others.length === 1 ? others[0] : undefined);
if (!validator) throw new Error(${JSON.stringify(`${basename(entry)} exports no validator: export const validator = defineValidator({...})`)});
if (validator.name !== ${JSON.stringify(name)}) {
  throw new Error(${JSON.stringify(`${basename(entry)}: the validator is named `)} + JSON.stringify(validator.name) + ${JSON.stringify(`, but addValidator claimed jobs for "${name}": pass name: the validator's name`)});
}
export const handler = createValidatorHandler(validator);
`;
}

/** Bundles with the shared esbuild options, in-process (no Docker); `stdin` for generated entries. */
function localBundle(
  outputDir: string,
  input: { entry?: string; contents?: string; outFile: string; alias?: Record<string, string> },
): void {
  buildSync({
    ...esbuildOptions,
    mainFields: [...esbuildOptions.mainFields],
    external: [...esbuildOptions.external],
    absWorkingDir: PROJECT_ROOT,
    outfile: join(outputDir, input.outFile),
    ...(input.contents !== undefined
      ? {
          stdin: {
            contents: input.contents,
            resolveDir: PROJECT_ROOT,
            sourcefile: 'custom-validator-handler.ts',
            loader: 'ts',
          },
        }
      : { entryPoints: [input.entry ?? ''] }),
    ...(input.alias ? { alias: input.alias } : {}),
  });
}

/** Local bundling only: Docker is neither needed nor available offline. */
function bundledAsset(sourceDir: string, bundle: (outputDir: string) => void): lambda.Code {
  return lambda.Code.fromAsset(sourceDir, {
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('public.ecr.aws/docker/library/node:24'),
      command: ['sh', '-c', 'echo "restore-validation bundles locally with esbuild" && exit 1'],
      local: {
        tryBundle(outputDir: string): boolean {
          bundle(outputDir);
          return true;
        },
      },
    },
  });
}

const claimsByHost = new WeakMap<
  Construct,
  { claims: ValidatorClaim[]; functions: lambda.Function[]; extensions: CheckExtension[] }
>();
function registryOf(host: ExtensionHost) {
  let r = claimsByHost.get(host.scope);
  if (!r) {
    r = { claims: [], functions: [], extensions: [] };
    claimsByHost.set(host.scope, r);
  }
  return r;
}

/** Every validator function (built-in and custom) learns every claim, so one function owns each job. */
function publishClaims(host: ExtensionHost): void {
  const r = registryOf(host);
  const value = JSON.stringify(r.claims);
  for (const fn of [...Object.values(host.builtIns), ...r.functions])
    fn?.addEnvironment(VALIDATOR_CLAIMS_ENV, value);
}

const pascal = (name: string): string =>
  name.replace(/(^|-)([a-z0-9])/g, (_m, _d, c: string) => c.toUpperCase());

/**
 * `RestoreValidation.addValidator`: validates the props (entry exists, name readable and unique)
 * before any resource is created, then adds a {@link CustomValidator} named after the validator.
 */
export function addCustomValidator(host: ExtensionHost, props: AddValidatorProps): CustomValidator {
  const entry = resolve(props.entry);
  if (!existsSync(entry))
    throw new Error(`addValidator: entry ${props.entry} does not exist (resolved to ${entry})`);
  const name = props.name ?? validatorNameIn(readFileSync(entry, 'utf8'));
  if (!name)
    throw new Error(
      `addValidator: cannot read the validator name from ${props.entry}: pass name (the defineValidator name)`,
    );
  if (!NAME.test(name))
    throw new Error(
      `addValidator: name ${JSON.stringify(name)} is invalid: use 1-40 lower-case letters, digits and -`,
    );
  if (registryOf(host).claims.some((c) => c.validator === name))
    throw new Error(`addValidator: a validator named ${name} was already added`);
  const parsed = matchSchema.safeParse(props.match);
  if (!parsed.success) {
    throw new Error(
      `addValidator(${name}): match: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  if ([props.match.resourceType].flat().length === 0) {
    throw new Error(
      `addValidator(${name}): match.resourceType is required (the EventBridge rule filters on it)`,
    );
  }
  if (props.inVpc && !host.vpc)
    throw new Error(`addValidator(${name}): inVpc is set but the RestoreValidation construct has no vpc`);
  return new CustomValidator(host.scope, `${pascal(name)}CustomValidator`, { ...props, host, name, entry });
}

/** `RestoreValidation.addCheck`: one {@link CheckExtension} per module file. */
export function addCheckExtension(host: ExtensionHost, props: AddCheckProps): CheckExtension {
  const entry = resolve(props.entry);
  if (!existsSync(entry))
    throw new Error(`addCheck: entry ${props.entry} does not exist (resolved to ${entry})`);
  if (registryOf(host).extensions.some((e) => e.entry === entry))
    throw new Error(`addCheck: ${props.entry} was already added`);
  return new CheckExtension(
    host.scope,
    `${pascal(
      basename(entry, extname(entry))
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, '-'),
    )}CheckExtension`,
    { ...props, entry, host },
  );
}

/** A user's validator deployed beside the built-in ones. */
export class CustomValidator extends Construct {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly rule: events.Rule;
  readonly claim: ValidatorClaim;

  constructor(
    scope: Construct,
    id: string,
    props: AddValidatorProps & {
      readonly host: ExtensionHost;
      readonly name: string;
      readonly entry: string;
    },
  ) {
    super(scope, id);
    const { host, name, entry } = props;
    const resourceTypes = ([] as ResourceType[]).concat(
      props.match.resourceType as ResourceType | ResourceType[],
    );
    const registry = registryOf(host);
    this.claim = { validator: name, match: matchSchema.parse(props.match) };

    const { logGroup, role } = ownLogsAndRole(
      this,
      { logs: 'Logs', role: 'Role' },
      host.logRetention,
      `restore-validation custom validator ${name}`,
    );
    this.role = role;
    const inVpc = Boolean(props.inVpc);
    host.grantCommon(this.role, inVpc);
    for (const type of new Set(
      resourceTypes.map((t) => validatorTypeFor(t)).filter((t): t is ValidatorType => t !== undefined),
    ))
      host.grantType(this.role, type);
    for (const s of props.permissions ?? []) this.role.addToPrincipalPolicy(s);

    const source = customValidatorHandlerSource(entry, name);
    this.function = new lambda.Function(this, 'Function', {
      description: `Custom validator ${name} for ${resourceTypes.join(', ')} restore tests (restore-validation)`,
      code: bundledAsset(dirname(entry), (out) => {
        localBundle(out, { contents: source, outFile: BUNDLE_FILE });
        copyFileSync(host.bundledConfigFile, join(out, host.bundledConfigName));
      }),
      handler: `${basename(BUNDLE_FILE, extname(BUNDLE_FILE))}.handler`,
      runtime: NODE_RUNTIME,
      architecture: ARCHITECTURE,
      memorySize: props.memorySize ?? host.memorySize,
      timeout: props.timeout ?? host.timeout,
      role: this.role,
      logGroup,
      environment: { ...host.environment, ...props.environment },
      retryAttempts: host.asyncRetryAttempts,
      maxEventAge: host.maxEventAge,
      onFailure: new destinations.SqsDestination(host.dlq),
      ...(inVpc && host.vpc
        ? {
            vpc: host.vpc,
            vpcSubnets: host.vpcSubnets,
            ...(host.securityGroup ? { securityGroups: [host.securityGroup] } : {}),
          }
        : {}),
    });

    this.rule = new events.Rule(this, 'RestoreCompletedRule', {
      description: `Restore Job State Change COMPLETED for ${resourceTypes.join(', ')} → custom validator ${name}`,
      eventPattern: restoreCompletedPattern(resourceTypes, host.restoreTestingPlanArns),
    });
    this.rule.addTarget(
      new targets.LambdaFunction(this.function, {
        deadLetterQueue: host.dlq,
        retryAttempts: host.eventRetryAttempts,
        maxEventAge: host.maxEventAge,
      }),
    );
    onceAlarm(
      this,
      'ErrorsAlarm',
      `The custom validator ${name} Lambda failed (the lifecycle turns failures into verdicts, so this is a crash or an init error).`,
      this.function.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
      host.alarmTopic,
    );

    registry.claims.push(this.claim);
    registry.functions.push(this.function);
    for (const ext of registry.extensions) if (!ext.types) ext.attach(this.function);
    publishClaims(host);
  }
}

/** Where layers are unpacked in Lambda. */
const LAYER_ROOT = '/opt';
const EXTENSIONS_DIR = 'restore-validation/extensions';

/**
 * A check kind module shipped to validators as a layer. Its `restore-validation` imports are bound to
 * the validator's own copy of the API at cold start (the kind registry must be the one that reads the
 * config), so the layer carries only the module's own code and its other dependencies.
 */
export class CheckExtension extends Construct {
  readonly layer: lambda.LayerVersion;
  /** Absolute path of the module inside the Lambda (`/opt/restore-validation/extensions/<name>.mjs`). */
  readonly runtimePath: string;
  readonly types?: readonly ValidatorType[];
  /** Absolute path of the module. */
  readonly entry: string;
  readonly #attached = new Set<lambda.Function>();
  readonly #host: ExtensionHost;

  constructor(scope: Construct, id: string, props: AddCheckProps & { readonly host: ExtensionHost }) {
    super(scope, id);
    const entry = resolve(props.entry);
    const file = `${basename(entry, extname(entry)).replace(/[^A-Za-z0-9_-]/g, '-')}.mjs`;
    this.runtimePath = `${LAYER_ROOT}/${EXTENSIONS_DIR}/${file}`;
    this.types = props.types;
    this.entry = entry;
    this.#host = props.host;
    const shim = join(PROJECT_ROOT, 'shared', 'extension-api.ts');
    this.layer = new lambda.LayerVersion(this, 'Layer', {
      description: `restore-validation check extension ${basename(entry)}`,
      compatibleRuntimes: [NODE_RUNTIME],
      compatibleArchitectures: [ARCHITECTURE],
      code: bundledAsset(dirname(entry), (out) => {
        mkdirSync(join(out, EXTENSIONS_DIR), { recursive: true });
        localBundle(out, {
          entry,
          outFile: join(EXTENSIONS_DIR, file),
          alias: { 'restore-validation': shim },
        });
      }),
    });
    const registry = registryOf(props.host);
    registry.extensions.push(this);
    const builtIns = Object.entries(props.host.builtIns) as [ValidatorType, lambda.Function | undefined][];
    for (const [type, fn] of builtIns) if (fn && (!this.types || this.types.includes(type))) this.attach(fn);
    if (!this.types) for (const fn of registry.functions) this.attach(fn);
  }

  /** Adds the layer and appends the module to the function's extension list. */
  attach(fn: lambda.Function): void {
    if (this.#attached.has(fn)) return;
    this.#attached.add(fn);
    fn.addLayers(this.layer);
    const paths = registryOf(this.#host)
      .extensions.filter((e) => e.#attached.has(fn))
      .map((e) => e.runtimePath);
    fn.addEnvironment(EXTENSIONS_ENV, paths.join(':'));
  }
}
