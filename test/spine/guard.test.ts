import { describe, expect, it } from 'vitest';
import { SafetyGuardError } from '../../shared/errors';
import { assertRestoreTestResource, isRestoreTestResource } from '../../shared/guard';

const ACCOUNT = '123456789012';

describe('isRestoreTestResource', () => {
  it('accepts the names and ARNs AWS Backup gives restored resources', () => {
    for (const name of [
      'awsbackup-restore-test-53a1c2f0',
      'arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-test-53a1c2f0',
      'arn:aws:rds:us-east-1:123456789012:cluster:awsbackup-restore-test-77f0a1b2',
      'arn:aws:dynamodb:us-east-1:123456789012:table/awsbackup-restore-test-1d2e3f40',
      'arn:aws:s3:::awsbackup-restore-test-9c8b7a65',
    ])
      expect(isRestoreTestResource(name, undefined, { accountId: ACCOUNT }), name).toBe(true);
  });

  it('accepts a resource tagged with exactly the restore-test key', () => {
    expect(isRestoreTestResource('vol-0abc', [{ Key: 'awsbackup-restore-test', Value: 'job-1' }])).toBe(true);
    expect(isRestoreTestResource('fs-0abc', { 'awsbackup-restore-test': '' })).toBe(true);
  });

  it('refuses a tag key that only starts with the restore-test key', () => {
    expect(isRestoreTestResource('prod-data', [{ Key: 'awsbackup-restore-test-owner', Value: 'x' }])).toBe(
      false,
    );
    expect(isRestoreTestResource('prod-data', { 'awsbackup-restore-tester': 'x' })).toBe(false);
  });

  it('refuses a name with the prefix but no separator after it', () => {
    expect(isRestoreTestResource('awsbackup-restore-tester-prod')).toBe(false);
    expect(isRestoreTestResource('awsbackup-restore-test')).toBe(false);
    expect(isRestoreTestResource('arn:aws:rds:us-east-1:123456789012:db:awsbackup-restore-testprod')).toBe(
      false,
    );
  });

  it('refuses the prefix anywhere but the resource id of the ARN', () => {
    // An S3 object ARN inside a production bucket; a DynamoDB stream of a production table.
    expect(isRestoreTestResource('arn:aws:s3:::prod-bucket/awsbackup-restore-test-x')).toBe(false);
    expect(
      isRestoreTestResource(
        'arn:aws:dynamodb:us-east-1:123456789012:table/awsbackup-restore-test-x/stream/1',
      ),
    ).toBe(false);
    expect(isRestoreTestResource('arn:aws:rds:us-east-1:123456789012:db:prod:awsbackup-restore-test-x')).toBe(
      false,
    );
    expect(isRestoreTestResource('prod/awsbackup-restore-test-x')).toBe(false);
  });

  it('refuses an ARN of another account even when named and tagged like a restore test', () => {
    const foreign = 'arn:aws:rds:us-east-1:999999999999:db:awsbackup-restore-test-53a1c2f0';
    expect(isRestoreTestResource(foreign, undefined, { accountId: ACCOUNT })).toBe(false);
    expect(
      isRestoreTestResource(foreign, [{ Key: 'awsbackup-restore-test', Value: 'x' }], { accountId: ACCOUNT }),
    ).toBe(false);
    expect(() => assertRestoreTestResource(foreign, undefined, 'delete', { accountId: ACCOUNT })).toThrow(
      /refusing to delete .*belongs to account 999999999999, not 123456789012/,
    );
  });

  it('refuses a name with a trailing newline or other control character', () => {
    expect(isRestoreTestResource('awsbackup-restore-test-53a1c2f0\n')).toBe(false);
    expect(isRestoreTestResource('awsbackup-restore-test-53a1c2f0\nprod-db')).toBe(false);
    expect(isRestoreTestResource('awsbackup-restore-test-\tx')).toBe(false);
  });

  it('says why it refused, with control characters escaped', () => {
    let caught: unknown;
    try {
      assertRestoreTestResource('prod-db\nINFO all good', undefined, 'validate');
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(SafetyGuardError);
    expect((caught as Error).message).toBe(
      'refusing to validate prod-db\\nINFO all good: it is neither named awsbackup-restore-test-… nor tagged awsbackup-restore-test',
    );
  });
});
