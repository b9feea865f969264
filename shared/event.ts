/**
 * The `Restore Job State Change` event as AWS Backup sends it to EventBridge.
 * Restore events use `detail.status`; the CREATED event uses `detail.state`. `restoreTestingPlanArn`
 * is present only for restore-test jobs. Sizes and percentages arrive as strings or numbers.
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/eventbridge.html
 */
import * as z from 'zod';
import { formatPath } from './config/load';
import { EventParseError } from './errors';

// Lenient where AWS Backup's events vary: numbers as strings (`backupSizeInBytes` usually is one),
// booleans as strings, and null or "" for an absent optional value.
const absent = (v: unknown) => v === null || v === '';
const numberish = z.preprocess(
  (v) => (absent(v) ? undefined : v),
  z
    .union([z.number(), z.string().regex(/^-?\d+(\.\d+)?$/, 'expected a number')])
    .transform((v) => Number(v))
    .optional(),
);
const booleanish = z.preprocess(
  (v) => (absent(v) ? undefined : v === 'true' ? true : v === 'false' ? false : v),
  z.boolean().optional(),
);
const optionalText = z.preprocess((v) => (absent(v) ? undefined : v), z.string().optional());
/** A restore job id: a string, or a number that JSON carried without quotes. */
const jobId = z.preprocess(
  (v) =>
    typeof v === 'number' && Number.isSafeInteger(v) ? String(v) : typeof v === 'string' ? v.trim() : v,
  z.string().min(1, 'must not be empty'),
);

export const restoreJobDetailSchema = z
  .looseObject({
    restoreJobId: jobId,
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
    backupSizeInBytes: numberish,
    percentDone: numberish,
    isParent: booleanish,
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

/** The value at a zod issue path in the raw input (to tell a missing field from a wrong one). */
function valueAt(raw: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = raw;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

const typeName = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Parses an event; throws one EventParseError naming the first offending field and what it holds. */
export function parseRestoreJobEvent(raw: unknown): RestoreJobEvent {
  const result = restoreJobEventSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue ? formatPath(issue.path) || '(event)' : '(event)';
  const value = issue ? valueAt(raw, issue.path) : undefined;
  const message =
    issue?.code === 'invalid_type'
      ? value === undefined
        ? 'is missing'
        : `expected ${issue.expected}, got ${typeName(value)}`
      : (issue?.message ?? 'invalid');
  throw new EventParseError(field, message);
}

/** True when the event says it is an AWS Backup `Restore Job State Change` (whatever its detail holds). */
export function isRestoreJobEvent(raw: unknown): boolean {
  const e = raw as { source?: unknown; 'detail-type'?: unknown } | null | undefined;
  return e?.source === 'aws.backup' && e['detail-type'] === 'Restore Job State Change';
}

/** The restore job id an event names, if any (for FAILED verdicts on events that fail to parse further). */
export function restoreJobIdOf(raw: unknown): string | undefined {
  const id = (raw as { detail?: { restoreJobId?: unknown } } | undefined)?.detail?.restoreJobId;
  const text = typeof id === 'number' && Number.isSafeInteger(id) ? String(id) : id;
  return typeof text === 'string' && text.trim().length > 0 ? text.trim() : undefined;
}
