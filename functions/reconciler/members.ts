/**
 * The central reconciler's way into member accounts: one `AssumeRole` per member account and pass,
 * then Backup clients for its regions signed with those temporary credentials.
 * @see https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { AssumeRoleCommand, type AssumeRoleCommandOutput, type STSClient } from '@aws-sdk/client-sts';
import { sdkClientConfig } from '../../shared/clients';

/** Temporary credentials of an assumed member role (the SDK's credential identity shape). */
export interface MemberCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

export interface MemberBackupOptions {
  /** Shown in the member account's CloudTrail as the session name. @default 'restore-validation-central' */
  readonly sessionName?: string;
  /** Builds the Backup client for one region of a member account (tests point it at a fake). */
  readonly makeBackup?: (region: string, credentials: MemberCredentials, roleArn: string) => BackupClient;
}

/** Returns `ReconcilerDeps.memberBackup`: assumes the role, then hands out per-region Backup clients. */
export function assumeRoleBackupFactory(sts: STSClient, options: MemberBackupOptions = {}) {
  const make =
    options.makeBackup ??
    ((region: string, credentials: MemberCredentials) =>
      new BackupClient({ ...sdkClientConfig({ region }), credentials }));
  return async (roleArn: string): Promise<(region: string) => BackupClient> => {
    let out: AssumeRoleCommandOutput;
    try {
      out = await sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: options.sessionName ?? 'restore-validation-central',
          // One pass lasts at most the Lambda timeout (5 minutes); 15 minutes is the minimum allowed.
          DurationSeconds: 900,
        }),
      );
    } catch (err) {
      const e = err as { name?: string; message?: string };
      throw new Error(
        `AssumeRole refused (${e.name ?? 'Error'}: ${e.message ?? 'no message'}); check the role's trust policy names the central reconciler role`,
      );
    }
    const c = out.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey) throw new Error('AssumeRole answered without credentials');
    const credentials: MemberCredentials = {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      ...(c.SessionToken ? { sessionToken: c.SessionToken } : {}),
      ...(c.Expiration ? { expiration: c.Expiration } : {}),
    };
    const clients = new Map<string, BackupClient>();
    return (region: string) => {
      let client = clients.get(region);
      if (!client) {
        client = make(region, credentials, roleArn);
        clients.set(region, client);
      }
      return client;
    };
  };
}
