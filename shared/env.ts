/**
 * The one place that reads process.env. Everything else receives settings through these accessors.
 */
export interface RuntimeSettings {
  /** Path of the bundled, validated config (`RESTORE_VALIDATION_CONFIG`). */
  readonly configPath?: string;
  /** DynamoDB table for Powertools idempotency (`IDEMPOTENCY_TABLE_NAME`). */
  readonly idempotencyTable?: string;
  /** Evidence bucket and index table (`EVIDENCE_BUCKET`, `EVIDENCE_TABLE`). */
  readonly evidenceBucket?: string;
  readonly evidenceTable?: string;
  /** SNS topic for FAILED/TIMED_OUT notifications (`ALARM_TOPIC_ARN`). */
  readonly alarmTopicArn?: string;
  /** Step Functions state machines the validators hand long work to (`STATE_MACHINE_ARN`). */
  readonly stateMachineArn?: string;
  /** Code version recorded in evidence (`RESTORE_VALIDATION_VERSION`). */
  readonly codeVersion: string;
  readonly region?: string;
  /** Post nothing to AWS Backup (`RESTORE_VALIDATION_DRY_RUN=true`). */
  readonly dryRun: boolean;
  /** Extra env (e.g. helper AMI parameter, subnet) passed by the construct, by name. */
  readonly raw: Readonly<Record<string, string | undefined>>;
}

export function runtimeSettings(env: NodeJS.ProcessEnv = process.env): RuntimeSettings {
  return {
    configPath: env.RESTORE_VALIDATION_CONFIG || undefined,
    idempotencyTable: env.IDEMPOTENCY_TABLE_NAME || undefined,
    evidenceBucket: env.EVIDENCE_BUCKET || undefined,
    evidenceTable: env.EVIDENCE_TABLE || undefined,
    alarmTopicArn: env.ALARM_TOPIC_ARN || undefined,
    stateMachineArn: env.STATE_MACHINE_ARN || undefined,
    codeVersion: env.RESTORE_VALIDATION_VERSION || '0.1.0',
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || undefined,
    dryRun: env.RESTORE_VALIDATION_DRY_RUN === 'true',
    raw: env,
  };
}

/** Reads a secret the user named with `--password-env VAR` (CLI only). */
export function readEnvVar(name: string): string | undefined {
  return process.env[name];
}
