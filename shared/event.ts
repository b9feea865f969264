/**
 * The `Restore Job State Change` event as AWS Backup sends it to EventBridge.
 * Restore events use `detail.status`; the CREATED event uses `detail.state`. `restoreTestingPlanArn`
 * is present only for restore-test jobs. Sizes and percentages arrive as strings or numbers.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
 */
import * as z from 'zod';
import { formatPath } from './config/load';
import { EventParseError } from './errors';

const numberish = z
  .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number')])
  .transform((v) => Number(v));
const optionalText = z
  .string()
  .optional()
  .transform((v) => (v === '' ? undefined : v));

export const restoreJobDetailSchema = z
  .looseObject({
    restoreJobId: z.string().min(1, 'must not be empty'),
    resourceType: z.string().min(1),
    status: z.string().optional(),
    state: z.string().optional(),
    backupVaultArn: optionalText,
    recoveryPointArn: optionalText,
    sourceResourceArn: optionalText,
    createdResourceArn: optionalText,
    iamRoleArn: optionalText,
    restoreTestingPlanArn: optionalText,
    statusMessage: optionalText,
    creationDate: optionalText,
    completionDate: optionalText,
    backupSizeInBytes: numberish.optional(),
    percentDone: numberish.optional(),
    isParent: z.boolean().optional(),
  })
  .transform((d) => ({ ...d, status: (d.status ?? d.state ?? '').toUpperCase() }))
  .refine((d) => d.status !== '', { message: 'neither status nor state is given', path: ['status'] });

export const restoreJobEventSchema = z.looseObject({
  source: z.literal('aws.backup', { error: 'expected "aws.backup"' }),
  'detail-type': z.literal('Restore Job State Change', { error: 'expected "Restore Job State Change"' }),
  account: z.string().optional(),
  region: z.string().optional(),
  time: z.string().optional(),
  id: z.string().optional(),
  detail: restoreJobDetailSchema,
});

export type RestoreJobEvent = z.output<typeof restoreJobEventSchema>;
export type RestoreJobDetail = RestoreJobEvent['detail'];

/** Parses an event; throws one EventParseError naming the first offending field. */
export function parseRestoreJobEvent(raw: unknown): RestoreJobEvent {
  const result = restoreJobEventSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) || '(event)' : '(event)';
  const message =
    issue?.code === 'invalid_type' && issue.input === undefined
      ? 'is missing'
      : (issue?.message ?? 'invalid');
  throw new EventParseError(field, message);
}

/** The restore job id an event names, if any (for FAILED verdicts on events that fail to parse further). */
export function restoreJobIdOf(raw: unknown): string | undefined {
  const id = (raw as { detail?: { restoreJobId?: unknown } } | undefined)?.detail?.restoreJobId;
  return typeof id === 'string' && id.length > 0 ? id : undefined;
}
