/**
 * The restore-testing half of the Backup API the reconciler reads (plans, selections, protected
 * resources), in front of the lead's FakeBackupApi (restore jobs). One endpoint: requests for these
 * routes are answered here, everything else is forwarded to the restore-job fake, so the real SDK
 * talks to both through a single `endpoint`.
 *
 *   GET /restore-testing/plans                                  ListRestoreTestingPlans
 *   GET /restore-testing/plans/{plan}                           GetRestoreTestingPlan
 *   GET /restore-testing/plans/{plan}/selections                ListRestoreTestingSelections
 *   GET /restore-testing/plans/{plan}/selections/{selection}    GetRestoreTestingSelection
 *   GET /resources                                              ListProtectedResources
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FakeBackupApi } from '../support/fake-backup';

export interface FakePlan {
  RestoreTestingPlanName: string;
  RestoreTestingPlanArn: string;
  ScheduleExpression?: string;
  StartWindowHours?: number;
}

export interface FakeSelection {
  RestoreTestingPlanName: string;
  RestoreTestingSelectionName: string;
  ProtectedResourceType: string;
  ProtectedResourceArns?: string[];
  ProtectedResourceConditions?: {
    StringEquals?: { Key: string; Value: string }[];
    StringNotEquals?: { Key: string; Value: string }[];
  };
  ValidationWindowHours?: number;
  IamRoleArn?: string;
}

export interface FakeProtectedResource {
  ResourceArn: string;
  ResourceType: string;
  LastBackupTime?: Date;
}

const epoch = (d: Date | undefined) => (d ? d.getTime() / 1000 : undefined);

export class FakeRestoreTestingApi {
  readonly jobsApi = new FakeBackupApi();
  readonly plans = new Map<string, FakePlan>();
  readonly selections: FakeSelection[] = [];
  readonly protectedResources: FakeProtectedResource[] = [];
  /** Operation names answered here, in order. */
  readonly calls: string[] = [];
  /** Page size for every list this fake answers (to exercise pagination). */
  pageSize = 1000;
  endpoint = '';
  #server: Server | undefined;

  addPlan(plan: FakePlan): this {
    this.plans.set(plan.RestoreTestingPlanName, plan);
    return this;
  }

  addSelection(selection: FakeSelection): this {
    this.selections.push(selection);
    return this;
  }

  addProtectedResource(resource: FakeProtectedResource): this {
    this.protectedResources.push(resource);
    return this;
  }

  async start(): Promise<string> {
    await this.jobsApi.start();
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((err) =>
        this.#send(res, 500, { message: String(err) }, 'InternalFailure'),
      );
    });
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    this.endpoint = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
    return this.endpoint;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.#server ? this.#server.close(() => resolve()) : resolve()));
    this.#server?.closeAllConnections?.();
    await this.jobsApi.stop();
  }

  #send(res: ServerResponse, status: number, body: unknown, errorType?: string) {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (errorType) headers['x-amzn-errortype'] = errorType;
    res.writeHead(status, headers);
    res.end(JSON.stringify(body ?? {}));
  }

  #page<T>(items: T[], token: string | null, max: string | null): { page: T[]; next?: string } {
    const start = Number(token ?? 0);
    const size = Math.min(Number(max ?? this.pageSize), this.pageSize);
    return {
      page: items.slice(start, start + size),
      next: start + size < items.length ? String(start + size) : undefined,
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    const q = url.searchParams;
    if (req.method === 'GET' && parts[0] === 'restore-testing' && parts[1] === 'plans') {
      const plan = parts[2] ? this.plans.get(parts[2]) : undefined;
      if (parts.length === 2) {
        this.calls.push('ListRestoreTestingPlans');
        const { page, next } = this.#page([...this.plans.values()], q.get('NextToken'), q.get('MaxResults'));
        return this.#send(res, 200, {
          RestoreTestingPlans: page.map((p) => ({ ...p, CreationTime: 0 })),
          NextToken: next,
        });
      }
      if (!plan)
        return this.#send(res, 404, { Message: `plan ${parts[2]} not found` }, 'ResourceNotFoundException');
      const selections = this.selections.filter(
        (s) => s.RestoreTestingPlanName === plan.RestoreTestingPlanName,
      );
      if (parts.length === 3) {
        this.calls.push('GetRestoreTestingPlan');
        return this.#send(res, 200, {
          RestoreTestingPlan: { ...plan, CreationTime: 0, RecoveryPointSelection: {} },
        });
      }
      if (parts.length === 4 && parts[3] === 'selections') {
        this.calls.push('ListRestoreTestingSelections');
        const { page, next } = this.#page(selections, q.get('NextToken'), q.get('MaxResults'));
        return this.#send(res, 200, {
          RestoreTestingSelections: page.map((s) => ({
            CreationTime: 0,
            IamRoleArn: s.IamRoleArn ?? 'arn:aws:iam::123456789012:role/restore',
            ProtectedResourceType: s.ProtectedResourceType,
            RestoreTestingPlanName: s.RestoreTestingPlanName,
            RestoreTestingSelectionName: s.RestoreTestingSelectionName,
            ValidationWindowHours: s.ValidationWindowHours,
          })),
          NextToken: next,
        });
      }
      if (parts.length === 5 && parts[3] === 'selections') {
        this.calls.push('GetRestoreTestingSelection');
        const sel = selections.find((s) => s.RestoreTestingSelectionName === parts[4]);
        if (!sel)
          return this.#send(
            res,
            404,
            { Message: `selection ${parts[4]} not found` },
            'ResourceNotFoundException',
          );
        return this.#send(res, 200, {
          RestoreTestingSelection: {
            CreationTime: 0,
            IamRoleArn: 'arn:aws:iam::123456789012:role/restore',
            ...sel,
          },
        });
      }
    }
    if (req.method === 'GET' && parts[0] === 'resources' && parts.length === 1) {
      this.calls.push('ListProtectedResources');
      const { page, next } = this.#page(this.protectedResources, q.get('nextToken'), q.get('maxResults'));
      return this.#send(res, 200, {
        Results: page.map((r) => ({ ...r, LastBackupTime: epoch(r.LastBackupTime) })),
        NextToken: next,
      });
    }
    // Everything else is a restore-job route: forward it unchanged.
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const upstream = await fetch(`${this.jobsApi.endpoint}${req.url ?? '/'}`, {
      method: req.method,
      headers: { 'content-type': 'application/json' },
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((v, k) => {
      if (k === 'content-type' || k.startsWith('x-amzn')) headers[k] = v;
    });
    res.writeHead(upstream.status, headers);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  }
}
