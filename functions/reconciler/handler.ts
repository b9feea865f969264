/**
 * The scheduled reconciler Lambda (EventBridge schedule, every 30 minutes by default). Plain logic
 * lives in reconcile.ts; this file wires clients, settings, notifications and metrics.
 * The `ReconcilerRuns` heartbeat metric is what the "reconciler stopped running" alarm watches.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { BackupClient } from '@aws-sdk/client-backup';
import { EFSClient } from '@aws-sdk/client-efs';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import { InvokeCommand } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { STSClient } from '@aws-sdk/client-sts';
import type { Context } from 'aws-lambda';
import {
  type Clients,
  clients as defaultClients,
  registerClients,
  sdkClientConfig,
} from '../../shared/clients';
import { type RuntimeSettings, runtimeSettings } from '../../shared/env';
import { reasonOf } from '../../shared/errors';
import { EvidenceStore } from '../../shared/evidence-store';
import { sweepMountTargets } from '../../shared/files/sweep';
import { logger } from '../../shared/logger';
import { METRIC, metrics, recordValidationMetrics } from '../../shared/metrics';
import { notifyVerdict } from '../../shared/notify';
import { assumeRoleBackupFactory } from './members';
import { type ReconcileResult, reconcile, type SynthesizedRestoreEvent } from './reconcile';
import { type ReconcilerSettings, reconcilerSettings } from './settings';
import { type SweptInstance, sweepTemporaryInstances } from './sweep';

registerClients({ rds: RDSClient, efs: EFSClient });

/** Invokes a validator asynchronously: the validator's own lifecycle does the rest. */
export function lambdaDispatcher(lambda: LambdaClient) {
  return async (functionName: string, event: SynthesizedRestoreEvent): Promise<void> => {
    const out = await lambda.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(event)),
      }),
    );
    if (out.StatusCode !== 202)
      throw new Error(`async invoke of ${functionName} answered ${out.StatusCode}, expected 202`);
  };
}

export interface ReconcilerHandlerOptions {
  readonly clients?: Clients;
  readonly settings?: RuntimeSettings;
  /** @default read as declared in settings.ts */
  readonly reconciler?: ReconcilerSettings;
  /** Central account: how member roles are assumed. @default - STS with the Lambda's credentials */
  readonly memberBackup?: (roleArn: string) => Promise<(region: string) => BackupClient>;
  /** Tagging API client for the instance sweep. @default - a new client in the Lambda's region */
  readonly tagging?: ResourceGroupsTaggingAPIClient;
}

export type ReconcilerPassResult = ReconcileResult & {
  /** Temporary DB instances looked at by the sweep (RECONCILER_SWEEP_INSTANCES). */
  readonly sweptInstances: readonly SweptInstance[];
};

/** Builds the handler; tests inject clients and settings. */
export function createReconcilerHandler(options: ReconcilerHandlerOptions = {}) {
  const regionalBackup = new Map<string, BackupClient>();
  let tagging = options.tagging;
  let memberBackup = options.memberBackup;
  // One STS client per container; created only when member accounts are configured.
  const memberFactory = () => {
    if (!memberBackup) memberBackup = assumeRoleBackupFactory(new STSClient(sdkClientConfig()));
    return memberBackup;
  };
  return async function handler(
    _event: unknown,
    context?: Pick<Context, 'getRemainingTimeInMillis'>,
  ): Promise<ReconcilerPassResult> {
    const settings = options.settings ?? runtimeSettings();
    const c = options.clients ?? defaultClients();
    const rs = options.reconciler ?? reconcilerSettings();
    const store = settings.evidenceBucket
      ? new EvidenceStore({
          s3: c.s3,
          dynamodb: settings.evidenceTable ? c.dynamodb : undefined,
          bucket: settings.evidenceBucket,
          table: settings.evidenceTable,
          prefix: settings.evidencePrefix,
        })
      : undefined;
    const remaining = context?.getRemainingTimeInMillis?.();
    const result = await reconcile(rs, {
      backup: c.backup,
      store,
      dispatch: lambdaDispatcher(c.lambda),
      onEvidence: async (record, location) => {
        recordValidationMetrics(record);
        try {
          await notifyVerdict(
            c.sns,
            settings.alarmTopicArn,
            record,
            location && store ? `s3://${store.bucket}/${location}` : undefined,
          );
        } catch (err) {
          logger.warn('notification failed', {
            restoreJobId: record.restoreJobId,
            reason: (err as Error).message,
          });
        }
      },
      logger,
      backupIn: (region) => {
        let client = regionalBackup.get(region);
        if (!client) {
          client = new BackupClient(sdkClientConfig({ region }));
          regionalBackup.set(region, client);
        }
        return client;
      },
      ...(rs.memberRoleArns.length > 0 ? { memberBackup: memberFactory() } : {}),
      deadline: remaining ? Date.now() + remaining - 30_000 : undefined,
    });
    let sweptInstances: SweptInstance[] = [];
    if (rs.sweepInstances) {
      tagging ??= new ResourceGroupsTaggingAPIClient(sdkClientConfig());
      try {
        sweptInstances = await sweepTemporaryInstances({
          tagging,
          rds: c.rds,
          backup: c.backup,
          now: new Date(),
          maxAgeMinutes: rs.sweepAfterMinutes,
        });
      } catch (err) {
        sweptInstances = [
          {
            instance: '*',
            restoreJobId: '',
            action: 'error',
            reason: `instances not listed: ${reasonOf(err)}`,
          },
        ];
      }
      for (const s of sweptInstances) {
        if (s.action === 'deleted') logger.info('temporary DB instance left behind deleted', { ...s });
        else if (s.action !== 'kept') logger.error('temporary DB instance not swept', { ...s });
      }
      // EFS mount targets left by a killed validator keep AWS Backup from deleting the file system.
      try {
        for (const m of await sweepMountTargets({
          efs: c.efs,
          now: new Date(),
          maxAgeMinutes: rs.sweepAfterMinutes,
        })) {
          if (m.action === 'deleted') logger.info('EFS mount target left behind deleted', { ...m });
          else if (m.action === 'error') logger.error('EFS mount target not swept', { ...m });
        }
      } catch (err) {
        logger.error('EFS mount targets not swept', { reason: reasonOf(err) });
      }
    }
    const d = result.decisions;
    metrics.addMetric(METRIC.reconcilerRuns, MetricUnit.Count, 1);
    metrics.addMetric(
      METRIC.instancesSwept,
      MetricUnit.Count,
      sweptInstances.filter((s) => s.action === 'deleted').length,
    );
    metrics.addMetric(METRIC.reconcilerDispatched, MetricUnit.Count, d.dispatched ?? 0);
    metrics.addMetric(METRIC.reconcilerWindowClosing, MetricUnit.Count, d['window-closing-posted'] ?? 0);
    metrics.addMetric(METRIC.restoreJobsFailed, MetricUnit.Count, d['restore-failed-recorded'] ?? 0);
    metrics.addMetric(METRIC.untestedResources, MetricUnit.Count, result.coverage.untested.length);
    metrics.addMetric(METRIC.unwatchedRestoreTests, MetricUnit.Count, result.coverage.unwatched?.length ?? 0);
    metrics.publishStoredMetrics();
    // A pass that could not act on some job must show up as a Lambda error (alarmed), after doing the rest.
    if ((d.error ?? 0) > 0)
      throw new Error(`reconciler: ${d.error} job action(s) failed; see the log for reasons`);
    const unchecked = result.members.filter((m) => m.error);
    if (unchecked.length > 0)
      throw new Error(
        `reconciler: ${unchecked.length} member account(s) not checked: ${unchecked.map((m) => m.account).join(', ')}; see the log for reasons`,
      );
    const unswept = sweptInstances.filter((s) => s.action === 'error' || s.action === 'refused');
    if (unswept.length > 0)
      throw new Error(
        `reconciler: ${unswept.length} temporary DB instance(s) left behind could not be swept: ${unswept.map((s) => s.instance).join(', ')}; see the log for reasons`,
      );
    return { ...result, sweptInstances };
  };
}

export const handler = createReconcilerHandler();
