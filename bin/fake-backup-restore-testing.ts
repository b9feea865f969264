/**
 * The restore-testing half of the local AWS Backup fake (bin/fake-backup-api.ts routes to it): plans,
 * selections, recovery points, inferred metadata and StartRestoreJob, with the REST-JSON paths, shapes
 * and error types of the Backup API model, so the SDK and the AWS CLI read its answers.
 *
 *   PUT|GET            /restore-testing/plans                          Create / List RestoreTestingPlan(s)
 *   GET|PUT|DELETE     /restore-testing/plans/{name}                   Get / Update / Delete
 *   PUT|GET            /restore-testing/plans/{name}/selections        Create / List selections
 *   GET|PUT|DELETE     /restore-testing/plans/{name}/selections/{sel}  Get / Update / Delete
 *   GET                /restore-testing/inferred-metadata              GetRestoreTestingInferredMetadata
 *   PUT                /restore-jobs                                   StartRestoreJob
 *   GET                /resources/{arn}/recovery-points/               ListRecoveryPointsByResource
 *   GET                /resources/                                     ListProtectedResources
 * @see https://docs.aws.amazon.com/aws-backup/latest/devguide/API_Operations.html
 */
import { randomUUID } from 'node:crypto';
import type { FakeRestoreJob } from './fake-backup-api';

export type RestoreTestingOperation =
  | 'CreateRestoreTestingPlan'
  | 'ListRestoreTestingPlans'
  | 'GetRestoreTestingPlan'
  | 'UpdateRestoreTestingPlan'
  | 'DeleteRestoreTestingPlan'
  | 'CreateRestoreTestingSelection'
  | 'ListRestoreTestingSelections'
  | 'GetRestoreTestingSelection'
  | 'UpdateRestoreTestingSelection'
  | 'DeleteRestoreTestingSelection'
  | 'GetRestoreTestingInferredMetadata'
  | 'StartRestoreJob'
  | 'ListRecoveryPointsByResource'
  | 'ListProtectedResources';

/** A recovery point the fake knows (what ListRecoveryPointsByResource and inferred metadata read). */
export interface FakeRecoveryPoint {
  readonly RecoveryPointArn: string;
  readonly ResourceArn: string;
  readonly ResourceType: string;
  readonly BackupVaultName: string;
  readonly CreationDate: Date;
  readonly Status?: 'COMPLETED' | 'PARTIAL' | 'DELETING' | 'EXPIRED' | 'AVAILABLE' | 'STOPPED' | 'CREATING';
  /** What GetRestoreTestingInferredMetadata answers for it. */
  readonly InferredMetadata?: Record<string, string>;
}

/** One HTTP answer: status, body and (for errors) the error type header. */
export interface FakeAnswer {
  readonly status: number;
  readonly body?: unknown;
  readonly errorType?: string;
}

interface PlanRecord {
  plan: Record<string, unknown>;
  readonly arn: string;
  readonly created: Date;
  updated?: Date;
  readonly creatorRequestId?: string;
  readonly selections: Map<
    string,
    { selection: Record<string, unknown>; created: Date; creatorRequestId?: string }
  >;
}

const NAME = /^[A-Za-z0-9_]{1,50}$/;
const epoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

const error = (type: string, message: string, extra: Record<string, unknown> = {}): FakeAnswer => ({
  status: 400,
  errorType: type,
  body: { Code: type, Message: message, Type: 'User', ...extra },
});

function page<T>(all: readonly T[], q: URLSearchParams, tokenKey: string, maxKey: string) {
  const start = Number(q.get(tokenKey) ?? 0);
  const max = Math.min(Number(q.get(maxKey) ?? 1000), 1000);
  return {
    items: all.slice(start, start + max),
    next: start + max < all.length ? String(start + max) : undefined,
  };
}

export class FakeRestoreTesting {
  readonly plans = new Map<string, PlanRecord>();
  readonly recoveryPoints: FakeRecoveryPoint[] = [];
  /** Describes a started job needs before it is COMPLETED (each DescribeRestoreJob advances it). */
  restoreJobSteps = 2;
  /** Refuse PutRestoreValidationResult for jobs started with StartRestoreJob (no plan), as AWS may. */
  refuseValidationOfStartedJobs = false;
  /** How a started job fails instead of completing (e.g. to test a FAILED restore). */
  failStartedJobsWith?: string;
  /** The created resource ARN of a started job; default derived from the type and metadata. */
  createdResourceArn?: (job: FakeRestoreJob) => string | undefined;
  readonly #started = new Map<string, number>();

  constructor(
    private readonly jobs: Map<string, FakeRestoreJob>,
    readonly accountId = '123456789012',
    readonly region = 'us-east-1',
  ) {}

  addRecoveryPoint(rp: FakeRecoveryPoint): this {
    this.recoveryPoints.push({ Status: 'COMPLETED', ...rp });
    return this;
  }

  /** Which operation a request is, or undefined when it is none of these routes. */
  route(method: string, parts: readonly string[]): RestoreTestingOperation | undefined {
    const [a, b, c, d, e] = parts;
    if (a === 'restore-testing' && b === 'inferred-metadata' && method === 'GET' && !c)
      return 'GetRestoreTestingInferredMetadata';
    if (a === 'restore-testing' && b === 'plans') {
      if (!c)
        return method === 'PUT'
          ? 'CreateRestoreTestingPlan'
          : method === 'GET'
            ? 'ListRestoreTestingPlans'
            : undefined;
      if (!d)
        return method === 'GET'
          ? 'GetRestoreTestingPlan'
          : method === 'PUT'
            ? 'UpdateRestoreTestingPlan'
            : method === 'DELETE'
              ? 'DeleteRestoreTestingPlan'
              : undefined;
      if (d === 'selections' && !e)
        return method === 'PUT'
          ? 'CreateRestoreTestingSelection'
          : method === 'GET'
            ? 'ListRestoreTestingSelections'
            : undefined;
      if (d === 'selections' && e)
        return method === 'GET'
          ? 'GetRestoreTestingSelection'
          : method === 'PUT'
            ? 'UpdateRestoreTestingSelection'
            : method === 'DELETE'
              ? 'DeleteRestoreTestingSelection'
              : undefined;
    }
    if (a === 'restore-jobs' && !b && method === 'PUT') return 'StartRestoreJob';
    if (a === 'resources' && !b && method === 'GET') return 'ListProtectedResources';
    if (a === 'resources' && b && c === 'recovery-points' && method === 'GET')
      return 'ListRecoveryPointsByResource';
    return undefined;
  }

  /** Why a validation result for this job is refused, if it is (see refuseValidationOfStartedJobs). */
  refusesValidation(job: FakeRestoreJob): string | undefined {
    return this.refuseValidationOfStartedJobs && this.#started.has(job.RestoreJobId)
      ? `Restore job ${job.RestoreJobId} was not created by a restore testing plan`
      : undefined;
  }

  /** Called by DescribeRestoreJob: a started job moves on one step per describe. */
  advance(job: FakeRestoreJob): void {
    const step = this.#started.get(job.RestoreJobId);
    if (step === undefined || job.Status === 'COMPLETED' || job.Status === 'FAILED') return;
    const next = step + 1;
    this.#started.set(job.RestoreJobId, next);
    if (next < this.restoreJobSteps) {
      job.Status = 'RUNNING';
      (job as { PercentDone?: string }).PercentDone = `${((100 * next) / this.restoreJobSteps).toFixed(2)}%`;
      return;
    }
    if (this.failStartedJobsWith) {
      job.Status = 'FAILED';
      job.StatusMessage = this.failStartedJobsWith;
      return;
    }
    job.Status = 'COMPLETED';
    job.CompletionDate = new Date();
    (job as { PercentDone?: string }).PercentDone = '100.00%';
    job.CreatedResourceArn = this.createdResourceArn?.(job) ?? this.#defaultCreatedArn(job);
  }

  handle(
    operation: RestoreTestingOperation,
    parts: readonly string[],
    q: URLSearchParams,
    body: Record<string, unknown> | undefined,
  ): FakeAnswer {
    const planName = parts[2] ?? '';
    const selName = parts[4] ?? '';
    switch (operation) {
      case 'CreateRestoreTestingPlan':
        return this.#createPlan(body ?? {});
      case 'ListRestoreTestingPlans': {
        const { items, next } = page([...this.plans.values()], q, 'NextToken', 'MaxResults');
        return {
          status: 200,
          body: {
            RestoreTestingPlans: items.map((p) => ({
              CreationTime: epoch(p.created),
              LastUpdateTime: epoch(p.updated),
              RestoreTestingPlanArn: p.arn,
              RestoreTestingPlanName: p.plan.RestoreTestingPlanName,
              ScheduleExpression: p.plan.ScheduleExpression,
              ScheduleExpressionTimezone: p.plan.ScheduleExpressionTimezone,
              StartWindowHours: p.plan.StartWindowHours,
            })),
            NextToken: next,
          },
        };
      }
      case 'GetRestoreTestingPlan': {
        const p = this.plans.get(planName);
        if (!p) return this.#noPlan(planName);
        return {
          status: 200,
          body: {
            RestoreTestingPlan: {
              ...p.plan,
              CreationTime: epoch(p.created),
              LastUpdateTime: epoch(p.updated),
              CreatorRequestId: p.creatorRequestId,
              RestoreTestingPlanArn: p.arn,
            },
          },
        };
      }
      case 'UpdateRestoreTestingPlan': {
        const p = this.plans.get(planName);
        if (!p) return this.#noPlan(planName);
        const update = (body?.RestoreTestingPlan ?? {}) as Record<string, unknown>;
        const problem = this.#planProblem({ ...p.plan, ...update });
        if (problem) return problem;
        p.plan = { ...p.plan, ...update };
        p.updated = new Date();
        return {
          status: 200,
          body: {
            CreationTime: epoch(p.created),
            RestoreTestingPlanArn: p.arn,
            RestoreTestingPlanName: planName,
            UpdateTime: epoch(p.updated),
          },
        };
      }
      case 'DeleteRestoreTestingPlan': {
        const p = this.plans.get(planName);
        if (!p) return this.#noPlan(planName);
        if (p.selections.size)
          return error(
            'InvalidRequestException',
            `Restore testing plan ${planName} still has ${p.selections.size} selection(s); delete them first`,
          );
        this.plans.delete(planName);
        return { status: 204 };
      }
      case 'CreateRestoreTestingSelection':
        return this.#createSelection(planName, body ?? {});
      case 'ListRestoreTestingSelections': {
        const p = this.plans.get(planName);
        if (!p) return this.#noPlan(planName);
        const { items, next } = page([...p.selections.values()], q, 'NextToken', 'MaxResults');
        return {
          status: 200,
          body: {
            RestoreTestingSelections: items.map((s) => ({
              CreationTime: epoch(s.created),
              IamRoleArn: s.selection.IamRoleArn,
              ProtectedResourceType: s.selection.ProtectedResourceType,
              RestoreTestingPlanName: planName,
              RestoreTestingSelectionName: s.selection.RestoreTestingSelectionName,
              ValidationWindowHours: s.selection.ValidationWindowHours,
            })),
            NextToken: next,
          },
        };
      }
      case 'GetRestoreTestingSelection': {
        const s = this.plans.get(planName)?.selections.get(selName);
        if (!s) return this.#noSelection(planName, selName);
        return {
          status: 200,
          body: {
            RestoreTestingSelection: {
              ...s.selection,
              CreationTime: epoch(s.created),
              CreatorRequestId: s.creatorRequestId,
              RestoreTestingPlanName: planName,
            },
          },
        };
      }
      case 'UpdateRestoreTestingSelection': {
        const p = this.plans.get(planName);
        const s = p?.selections.get(selName);
        if (!p || !s) return this.#noSelection(planName, selName);
        const merged = {
          ...s.selection,
          ...((body?.RestoreTestingSelection ?? {}) as Record<string, unknown>),
        };
        const problem = this.#selectionProblem(merged);
        if (problem) return problem;
        s.selection = merged;
        return {
          status: 200,
          body: {
            CreationTime: epoch(s.created),
            RestoreTestingPlanArn: p.arn,
            RestoreTestingPlanName: planName,
            RestoreTestingSelectionName: selName,
            UpdateTime: Date.now() / 1000,
          },
        };
      }
      case 'DeleteRestoreTestingSelection': {
        const p = this.plans.get(planName);
        if (!p?.selections.has(selName)) return this.#noSelection(planName, selName);
        p.selections.delete(selName);
        return { status: 204 };
      }
      case 'GetRestoreTestingInferredMetadata': {
        const vault = q.get('BackupVaultName');
        const arn = q.get('RecoveryPointArn');
        if (!vault || !arn)
          return error(
            'MissingParameterValueException',
            `${!vault ? 'BackupVaultName' : 'RecoveryPointArn'} is required`,
          );
        const rp = this.recoveryPoints.find((r) => r.RecoveryPointArn === arn && r.BackupVaultName === vault);
        if (!rp)
          return error('ResourceNotFoundException', `Recovery point ${arn} not found in vault ${vault}`);
        return { status: 200, body: { InferredMetadata: rp.InferredMetadata ?? {} } };
      }
      case 'StartRestoreJob':
        return this.#startRestoreJob(body ?? {});
      case 'ListRecoveryPointsByResource': {
        const arn = parts.slice(1, -1).join('/');
        const all = this.recoveryPoints
          .filter((r) => r.ResourceArn === arn)
          .sort((x, y) => y.CreationDate.getTime() - x.CreationDate.getTime());
        const { items, next } = page(all, q, 'nextToken', 'maxResults');
        return {
          status: 200,
          body: {
            RecoveryPoints: items.map((r) => ({
              RecoveryPointArn: r.RecoveryPointArn,
              CreationDate: epoch(r.CreationDate),
              Status: r.Status,
              BackupVaultName: r.BackupVaultName,
            })),
            NextToken: next,
          },
        };
      }
      case 'ListProtectedResources': {
        const latest = new Map<string, FakeRecoveryPoint>();
        for (const r of this.recoveryPoints) {
          const seen = latest.get(r.ResourceArn);
          if (!seen || seen.CreationDate < r.CreationDate) latest.set(r.ResourceArn, r);
        }
        const { items, next } = page([...latest.values()], q, 'nextToken', 'maxResults');
        return {
          status: 200,
          body: {
            Results: items.map((r) => ({
              ResourceArn: r.ResourceArn,
              ResourceType: r.ResourceType,
              LastBackupTime: epoch(r.CreationDate),
              LastRecoveryPointArn: r.RecoveryPointArn,
            })),
            NextToken: next,
          },
        };
      }
    }
  }

  #noPlan(name: string): FakeAnswer {
    return error('ResourceNotFoundException', `Restore testing plan ${name} not found`);
  }

  #noSelection(plan: string, sel: string): FakeAnswer {
    return error('ResourceNotFoundException', `Restore testing selection ${sel} of plan ${plan} not found`);
  }

  #planProblem(plan: Record<string, unknown>): FakeAnswer | undefined {
    for (const k of ['RestoreTestingPlanName', 'ScheduleExpression', 'RecoveryPointSelection'])
      if (plan[k] === undefined) return error('MissingParameterValueException', `${k} is required`);
    if (!NAME.test(String(plan.RestoreTestingPlanName)))
      return error(
        'InvalidParameterValueException',
        'RestoreTestingPlanName must consist of alphanumeric characters and underscores, at most 50',
      );
    const w = plan.StartWindowHours;
    if (w !== undefined && (typeof w !== 'number' || w < 1 || w > 168))
      return error('InvalidParameterValueException', 'StartWindowHours must be between 1 and 168');
    return undefined;
  }

  #selectionProblem(sel: Record<string, unknown>): FakeAnswer | undefined {
    for (const k of ['IamRoleArn', 'ProtectedResourceType', 'RestoreTestingSelectionName'])
      if (sel[k] === undefined) return error('MissingParameterValueException', `${k} is required`);
    if (!NAME.test(String(sel.RestoreTestingSelectionName)))
      return error(
        'InvalidParameterValueException',
        'RestoreTestingSelectionName must consist of alphanumeric characters and underscores, at most 50',
      );
    const arns = sel.ProtectedResourceArns as unknown[] | undefined;
    if (arns && sel.ProtectedResourceConditions)
      return error(
        'InvalidParameterValueException',
        'ProtectedResourceArns and ProtectedResourceConditions cannot both be given',
      );
    if (arns && arns.length > 30)
      return error('InvalidParameterValueException', 'ProtectedResourceArns holds at most 30 ARNs');
    const h = sel.ValidationWindowHours;
    if (h !== undefined && (typeof h !== 'number' || h < 1 || h > 168))
      return error('InvalidParameterValueException', 'ValidationWindowHours must be between 1 and 168');
    return undefined;
  }

  #createPlan(body: Record<string, unknown>): FakeAnswer {
    const plan = body.RestoreTestingPlan as Record<string, unknown> | undefined;
    if (!plan) return error('MissingParameterValueException', 'RestoreTestingPlan is required');
    const problem = this.#planProblem(plan);
    if (problem) return problem;
    const name = String(plan.RestoreTestingPlanName);
    const existing = this.plans.get(name);
    if (existing)
      return error('AlreadyExistsException', `Restore testing plan ${name} already exists`, {
        Arn: existing.arn,
        CreatorRequestId: existing.creatorRequestId,
      });
    const record: PlanRecord = {
      plan: { ScheduleExpressionTimezone: 'Etc/UTC', ...plan },
      arn: `arn:aws:backup:${this.region}:${this.accountId}:restore-testing-plan:${name}-${randomUUID().slice(0, 8)}`,
      created: new Date(),
      creatorRequestId: body.CreatorRequestId as string | undefined,
      selections: new Map(),
    };
    this.plans.set(name, record);
    return {
      status: 201,
      body: {
        CreationTime: epoch(record.created),
        RestoreTestingPlanArn: record.arn,
        RestoreTestingPlanName: name,
      },
    };
  }

  #createSelection(planName: string, body: Record<string, unknown>): FakeAnswer {
    const p = this.plans.get(planName);
    if (!p) return this.#noPlan(planName);
    const sel = body.RestoreTestingSelection as Record<string, unknown> | undefined;
    if (!sel) return error('MissingParameterValueException', 'RestoreTestingSelection is required');
    const problem = this.#selectionProblem(sel);
    if (problem) return problem;
    const name = String(sel.RestoreTestingSelectionName);
    if (p.selections.has(name))
      return error(
        'AlreadyExistsException',
        `Restore testing selection ${name} already exists in ${planName}`,
      );
    const created = new Date();
    p.selections.set(name, {
      selection: { ValidationWindowHours: 24, ...sel },
      created,
      creatorRequestId: body.CreatorRequestId as string | undefined,
    });
    return {
      status: 201,
      body: {
        CreationTime: epoch(created),
        RestoreTestingPlanArn: p.arn,
        RestoreTestingPlanName: planName,
        RestoreTestingSelectionName: name,
      },
    };
  }

  #startRestoreJob(body: Record<string, unknown>): FakeAnswer {
    if (!body.RecoveryPointArn)
      return error('MissingParameterValueException', 'RecoveryPointArn is required');
    if (!body.Metadata || typeof body.Metadata !== 'object')
      return error('MissingParameterValueException', 'Metadata is required');
    const rp = this.recoveryPoints.find((r) => r.RecoveryPointArn === body.RecoveryPointArn);
    if (!rp)
      return error('ResourceNotFoundException', `Recovery point ${String(body.RecoveryPointArn)} not found`);
    const token = body.IdempotencyToken as string | undefined;
    if (token) {
      const same = [...this.jobs.values()].find(
        (j) => (j as { IdempotencyToken?: string }).IdempotencyToken === token,
      );
      if (same) return { status: 200, body: { RestoreJobId: same.RestoreJobId } };
    }
    const id = randomUUID().toUpperCase();
    const job: FakeRestoreJob & { IdempotencyToken?: string; PercentDone?: string } = {
      RestoreJobId: id,
      ResourceType: (body.ResourceType as string | undefined) ?? rp.ResourceType,
      Status: 'PENDING',
      AccountId: this.accountId,
      SourceResourceArn: rp.ResourceArn,
      RecoveryPointArn: rp.RecoveryPointArn,
      BackupVaultArn: `arn:aws:backup:${this.region}:${this.accountId}:backup-vault:${rp.BackupVaultName}`,
      IamRoleArn: body.IamRoleArn as string | undefined,
      CreationDate: new Date(),
      RecoveryPointCreationDate: rp.CreationDate,
      Metadata: body.Metadata as Record<string, string>,
      IdempotencyToken: token,
      PercentDone: '0.00%',
    };
    this.jobs.set(id, job);
    this.#started.set(id, 0);
    return { status: 200, body: { RestoreJobId: id } };
  }

  #defaultCreatedArn(job: FakeRestoreJob): string | undefined {
    const m = Object.fromEntries(Object.entries(job.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    const at = `${this.region}:${this.accountId}`;
    switch (job.ResourceType) {
      case 'RDS':
        return `arn:aws:rds:${at}:db:${m.dbinstanceidentifier ?? `awsbackup-restore-test-${job.RestoreJobId.slice(0, 8).toLowerCase()}`}`;
      case 'Aurora':
      case 'DocumentDB':
      case 'Neptune':
        return `arn:aws:rds:${at}:cluster:${m.dbclusteridentifier ?? `awsbackup-restore-test-${job.RestoreJobId.slice(0, 8).toLowerCase()}`}`;
      case 'S3':
        return `arn:aws:s3:::${m.destinationbucketname ?? `awsbackup-restore-test-${job.RestoreJobId.slice(0, 8).toLowerCase()}`}`;
      case 'DynamoDB':
        return `arn:aws:dynamodb:${at}:table/${m.targettablename ?? `awsbackup-restore-test-${job.RestoreJobId.slice(0, 8).toLowerCase()}`}`;
      default:
        return undefined;
    }
  }
}
