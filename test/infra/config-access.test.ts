import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/bundling';
import { configAccess, globToIamPattern, secretResourcePatterns } from '../../infra/config-access';
import { loadConfigFile, parseConfig } from '../../shared/config';

describe('globToIamPattern', () => {
  it('keeps * and ? globs and widens ** to *', () => {
    expect(globToIamPattern('arn:aws:s3:::media-*')).toBe('arn:aws:s3:::media-*');
    expect(globToIamPattern('arn:aws:dynamodb:*:*:table/**')).toBe('arn:aws:dynamodb:*:*:table/*');
  });
  it('returns undefined when IAM cannot express the glob', () => {
    expect(globToIamPattern('arn:aws:s3:::{a,b}')).toBeUndefined();
    expect(globToIamPattern('arn:aws:s3:::[ab]*')).toBeUndefined();
  });
});

describe('secretResourcePatterns', () => {
  it('allows the ARN and the ARN with the six-character suffix', () => {
    expect(secretResourcePatterns('arn:aws:secretsmanager:us-east-1:1:secret:db-reader')).toEqual([
      'arn:aws:secretsmanager:us-east-1:1:secret:db-reader',
      'arn:aws:secretsmanager:us-east-1:1:secret:db-reader-??????',
    ]);
  });
});

describe('configAccess', () => {
  it('gives a profile without resourceType to every validator and one with a type to that validator only', () => {
    const config = parseConfig({
      version: 1,
      profiles: [
        {
          name: 'any',
          connection: { secretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:shared' },
          checks: [],
        },
        {
          name: 'pg',
          match: { resourceType: 'RDS' },
          connection: { iamAuth: true, user: 'validator' },
          checks: [],
        },
      ],
    });
    const access = configAccess(config);
    expect(access.s3.secretArns).toContain('arn:aws:secretsmanager:us-east-1:123456789012:secret:shared');
    expect(access.rds.dbUsers).toEqual(['validator']);
    expect(access.aurora.dbUsers).toEqual([]);
  });

  it('widens and explains source access when a compare profile names no source', () => {
    const config = parseConfig({
      version: 1,
      profiles: [
        { name: 'b', match: { resourceType: 'S3' }, checks: [{ id: 'c', compare: { with: 'source' } }] },
      ],
    });
    const access = configAccess(config);
    expect(access.s3.sourceBuckets).toEqual(['*']);
    expect(access.s3.broadened[0]).toMatch(
      /profile "b": a compare check without match.sourceResourceArn can read any bucket/,
    );
  });

  it('uses an explicit sourceBucket over the match glob', () => {
    const config = parseConfig({
      version: 1,
      profiles: [
        {
          name: 'b',
          match: { resourceType: 'S3', sourceResourceArn: 'arn:aws:s3:::x-*' },
          checks: [{ id: 'c', compare: { with: 'source', sourceBucket: 'x-prod' } }],
        },
      ],
    });
    expect(configAccess(config).s3.sourceBuckets).toEqual(['x-prod']);
  });

  it('widens nothing for the shipped validation.config.yaml and scopes its DynamoDB compare to the sessions tables', () => {
    const access = configAccess(loadConfigFile(join(PROJECT_ROOT, 'validation.config.yaml')));
    for (const [type, a] of Object.entries(access)) expect(a.broadened, type).toEqual([]);
    expect(access.dynamodb.sourceTables).toEqual(['arn:aws:dynamodb:*:*:table/sessions*']);
    expect(access.s3.sourceBuckets).toEqual(['customer-documents']);
  });
});
