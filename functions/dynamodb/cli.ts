/**
 * `restore-validation check dynamodb --table T [--source-table S] [--endpoint-url URL]`: runs a
 * DynamoDB profile against any reachable table (DynamoDB, DynamoDB Local, moto).
 */
import type { LocalTarget } from '../../shared/local';
import { dynamodbValidator } from './validator';

export const cliTarget: LocalTarget = {
  type: 'dynamodb',
  resourceType: 'DynamoDB',
  summary: 'check a DynamoDB table (restored copy) against its source table',
  options: [
    { flags: '--table <name>', description: 'the restored table to check', required: true },
    {
      flags: '--source-table <name>',
      description: 'the source table to compare with (compare, key-schema, indexes, stream)',
    },
    { flags: '--endpoint-url <url>', description: 'DynamoDB endpoint (DynamoDB Local, moto)' },
    { flags: '--region <region>', description: 'AWS region of the tables' },
    {
      flags: '--recovery-point-time <iso>',
      description:
        'recovery point time: source items changed after it (compare.changedAtAttribute) are skipped as drift',
    },
  ],
  validator: dynamodbValidator,
  sourceResourceArn(target) {
    const source = typeof target.sourceTable === 'string' ? target.sourceTable : undefined;
    if (!source) return undefined;
    const region = typeof target.region === 'string' && target.region ? target.region : 'us-east-1';
    return `arn:aws:dynamodb:${region}:000000000000:table/${source}`;
  },
};
