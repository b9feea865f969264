/**
 * A local HTTP fake of the AWS Backup restore API — the only AWS control plane no engine offers.
 * It speaks the REST-JSON wire format of the paths restore-validation calls, so the real SDK (and the
 * real esbuild bundles) talk to it through `AWS_ENDPOINT_URL_BACKUP`. Used by the demo and the tests.
 *
 *   GET  /restore-jobs/{id}               DescribeRestoreJob
 *   GET  /restore-jobs/{id}/metadata      GetRestoreJobMetadata
 *   PUT  /restore-jobs/{id}/validations   PutRestoreValidationResult (final statuses are immutable)
 *   GET  /restore-jobs                    ListRestoreJobs (filters + pagination)
 *   restore testing plans, selections, recovery points, inferred metadata and StartRestoreJob:
 *   bin/fake-backup-restore-testing.ts (`fake.restoreTesting`)
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeRestoreTesting, type RestoreTestingOperation } from './fake-backup-restore-testing';

export interface FakeRestoreJob {
  RestoreJobId: string;
  ResourceType: string;
  Status?: string;
  StatusMessage?: string;
  AccountId?: string;
  CreatedResourceArn?: string;
  SourceResourceArn?: string;
  RecoveryPointArn?: string;
  BackupVaultArn?: string;
  IamRoleArn?: string;
  BackupSizeInBytes?: number;
  CreationDate?: Date;
  CompletionDate?: Date;
  RecoveryPointCreationDate?: Date;
  RestoreTestingPlanArn?: string;
  ValidationStatus?: string;
  ValidationStatusMessage?: string;
  /** GetRestoreJobMetadata's map. */
  Metadata?: Record<string, string>;
}

export type FakeOperation =
  | 'DescribeRestoreJob'
  | 'GetRestoreJobMetadata'
  | 'PutRestoreValidationResult'
  | 'ListRestoreJobs'
  | RestoreTestingOperation;

export interface Fault {
  readonly operation: FakeOperation;
  /** HTTP status to answer with: 429 → ThrottlingException, 5xx → ServiceUnavailableException, 400/404 as given. */
  readonly status: number;
  /** How many calls fail before the operation works again (Infinity for always). */
  times: number;
  readonly errorType?: string;
  /** Delay the answer (ms), e.g. to exercise timeouts. */
  readonly delayMs?: number;
}

export interface RecordedCall {
  readonly operation: FakeOperation;
  readonly restoreJobId?: string;
  readonly body?: unknown;
}

const FINAL = new Set(['SUCCESSFUL', 'FAILED', 'TIMED_OUT']);
const epoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

export class FakeBackupApi {
  readonly jobs = new Map<string, FakeRestoreJob>();
  readonly calls: RecordedCall[] = [];
  readonly faults: Fault[] = [];
  /** Restore testing plans/selections, recovery points and started restore jobs. */
  readonly restoreTesting = new FakeRestoreTesting(this.jobs);
  #server: Server | undefined;
  endpoint = '';

  addJob(job: FakeRestoreJob): this {
    this.jobs.set(job.RestoreJobId, { Status: 'COMPLETED', ...job });
    return this;
  }

  /** Make the next `times` calls of an operation fail. */
  fail(operation: FakeOperation, status: number, times = 1, errorType?: string, delayMs?: number): this {
    this.faults.push({ operation, status, times, errorType, delayMs });
    return this;
  }

  /** The PutRestoreValidationResult calls made for a job, in order. */
  validations(restoreJobId?: string): Array<{ restoreJobId: string; status: string; message?: string }> {
    return this.calls
      .filter(
        (c) =>
          c.operation === 'PutRestoreValidationResult' && (!restoreJobId || c.restoreJobId === restoreJobId),
      )
      .map((c) => {
        const b = c.body as { ValidationStatus?: string; ValidationStatusMessage?: string };
        return {
          restoreJobId: c.restoreJobId ?? '',
          status: b.ValidationStatus ?? '',
          message: b.ValidationStatusMessage,
        };
      });
  }

  /** Validation results the fake accepted (a final one is immutable, so later attempts are refused). */
  readonly accepted: Array<{ restoreJobId: string; status: string; message?: string }> = [];

  /** Only the final verdicts (SUCCESSFUL/FAILED/TIMED_OUT) that were accepted. */
  finalVerdicts(restoreJobId?: string) {
    return this.accepted.filter(
      (v) => FINAL.has(v.status) && (!restoreJobId || v.restoreJobId === restoreJobId),
    );
  }

  count(operation: FakeOperation): number {
    return this.calls.filter((c) => c.operation === operation).length;
  }

  async start(port = 0): Promise<string> {
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) =>
        this.#send(res, 500, { message: String(err) }, 'InternalFailure'),
      );
    });
    await new Promise<void>((resolve) => this.#server?.listen(port, '127.0.0.1', resolve));
    const { port: bound } = this.#server.address() as AddressInfo;
    this.endpoint = `http://127.0.0.1:${bound}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server?.closeAllConnections?.();
  }

  #send(res: ServerResponse, status: number, body: unknown, errorType?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(status === 204 ? undefined : JSON.stringify(body ?? {}));
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    let body: unknown;
    if (req.method === 'PUT' || req.method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      body = text ? JSON.parse(text) : {};
    }
    let operation: FakeOperation | undefined;
    const id = parts[1];
    if (parts[0] === 'restore-jobs' && req.method === 'GET' && parts.length === 1)
      operation = 'ListRestoreJobs';
    else if (parts[0] === 'restore-jobs' && req.method === 'GET' && parts.length === 2)
      operation = 'DescribeRestoreJob';
    else if (parts[0] === 'restore-jobs' && req.method === 'GET' && parts[2] === 'metadata')
      operation = 'GetRestoreJobMetadata';
    else if (parts[0] === 'restore-jobs' && req.method === 'PUT' && parts[2] === 'validations')
      operation = 'PutRestoreValidationResult';
    const restoreTesting = operation ? undefined : this.restoreTesting.route(req.method ?? '', parts);
    operation ??= restoreTesting;
    if (!operation)
      return this.#send(
        res,
        404,
        { message: `fake Backup API: no route for ${req.method} ${url.pathname}` },
        'UnknownOperationException',
      );
    this.calls.push({ operation, restoreJobId: id, body });

    const fault = this.faults.find((f) => f.operation === operation && f.times > 0);
    if (fault) {
      fault.times -= 1;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      const type =
        fault.errorType ??
        (fault.status === 429
          ? 'ThrottlingException'
          : fault.status >= 500
            ? 'ServiceUnavailableException'
            : 'InvalidParameterValueException');
      return this.#send(
        res,
        fault.status,
        { message: `injected ${type}`, Message: `injected ${type}` },
        type,
      );
    }

    if (restoreTesting) {
      const a = this.restoreTesting.handle(
        restoreTesting,
        parts,
        url.searchParams,
        body as Record<string, unknown>,
      );
      return this.#send(res, a.status, a.body, a.errorType);
    }
    if (operation === 'ListRestoreJobs') return this.#send(res, 200, this.#list(url.searchParams));
    const job = id ? this.jobs.get(id) : undefined;
    if (!job)
      return this.#send(
        res,
        400,
        { Message: `Restore job ${id} not found`, Type: 'User' },
        'ResourceNotFoundException',
      );
    if (operation === 'DescribeRestoreJob') {
      this.restoreTesting.advance(job);
      return this.#send(res, 200, this.#describe(job));
    }
    if (operation === 'GetRestoreJobMetadata')
      return this.#send(res, 200, { RestoreJobId: job.RestoreJobId, Metadata: job.Metadata ?? {} });
    const b = body as { ValidationStatus?: string; ValidationStatusMessage?: string };
    const refused = this.restoreTesting.refusesValidation(job);
    if (refused) return this.#send(res, 400, { Message: refused }, 'InvalidRequestException');
    // AWS documents no error for a write to a final status; this refusal's type and message are the
    // fake's own, and postVerdict must not depend on them (it re-reads the status). No length limit
    // on the message either: the API documents none (the 1,000 characters are DESIGN.md's rule).
    if (job.ValidationStatus && FINAL.has(job.ValidationStatus)) {
      return this.#send(
        res,
        400,
        { Message: `ValidationStatus is already final (${job.ValidationStatus}) and cannot be changed` },
        'InvalidRequestException',
      );
    }
    if (
      !b.ValidationStatus ||
      !['SUCCESSFUL', 'FAILED', 'TIMED_OUT', 'VALIDATING'].includes(b.ValidationStatus)
    ) {
      return this.#send(
        res,
        400,
        { Message: `invalid ValidationStatus ${b.ValidationStatus}` },
        'InvalidParameterValueException',
      );
    }
    job.ValidationStatus = b.ValidationStatus;
    job.ValidationStatusMessage = b.ValidationStatusMessage;
    this.accepted.push({
      restoreJobId: job.RestoreJobId,
      status: b.ValidationStatus,
      message: b.ValidationStatusMessage,
    });
    return this.#send(res, 204, undefined);
  }

  #describe(job: FakeRestoreJob) {
    return {
      AccountId: job.AccountId ?? '123456789012',
      RestoreJobId: job.RestoreJobId,
      RecoveryPointArn: job.RecoveryPointArn,
      SourceResourceArn: job.SourceResourceArn,
      BackupVaultArn: job.BackupVaultArn,
      CreationDate: epoch(job.CreationDate),
      CompletionDate: epoch(job.CompletionDate),
      Status: job.Status,
      PercentDone: (job as { PercentDone?: string }).PercentDone,
      StatusMessage: job.StatusMessage,
      BackupSizeInBytes: job.BackupSizeInBytes,
      IamRoleArn: job.IamRoleArn,
      CreatedResourceArn: job.CreatedResourceArn,
      ResourceType: job.ResourceType,
      RecoveryPointCreationDate: epoch(job.RecoveryPointCreationDate),
      CreatedBy: job.RestoreTestingPlanArn ? { RestoreTestingPlanArn: job.RestoreTestingPlanArn } : undefined,
      ValidationStatus: job.ValidationStatus,
      ValidationStatusMessage: job.ValidationStatusMessage,
    };
  }

  #list(q: URLSearchParams) {
    const after = q.get('createdAfter');
    const before = q.get('createdBefore');
    const toMs = (v: string) => (/^\d+(\.\d+)?$/.test(v) ? Number(v) * 1000 : Date.parse(v));
    const all = [...this.jobs.values()].filter(
      (j) =>
        (!q.get('restoreTestingPlanArn') || j.RestoreTestingPlanArn === q.get('restoreTestingPlanArn')) &&
        (!q.get('status') || j.Status === q.get('status')) &&
        (!q.get('resourceType') || j.ResourceType === q.get('resourceType')) &&
        (!after || (j.CreationDate?.getTime() ?? 0) >= toMs(after)) &&
        (!before || (j.CreationDate?.getTime() ?? 0) <= toMs(before)),
    );
    const start = Number(q.get('nextToken') ?? 0);
    const max = Math.min(Number(q.get('maxResults') ?? 1000), 1000);
    const page = all.slice(start, start + max).map((j) => this.#describe(j));
    return { RestoreJobs: page, NextToken: start + max < all.length ? String(start + max) : undefined };
  }
}
