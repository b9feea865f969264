/** Creates the evidence bucket and index table in moto exactly as infra/constructs/operations.ts does. */
import { CreateTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { EVIDENCE_INDEXES, EVIDENCE_TABLE_PARTITION_KEY } from '../../shared/evidence-store';

export async function createEvidenceStore(
  s3: S3Client,
  dynamodb: DynamoDBClient,
  bucket: string,
  table: string,
): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const attrs = new Set<string>([EVIDENCE_TABLE_PARTITION_KEY]);
  for (const ix of Object.values(EVIDENCE_INDEXES)) {
    attrs.add(ix.partitionKey);
    attrs.add(ix.sortKey);
  }
  await dynamodb.send(
    new CreateTableCommand({
      TableName: table,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [...attrs].map((AttributeName) => ({ AttributeName, AttributeType: 'S' })),
      KeySchema: [{ AttributeName: EVIDENCE_TABLE_PARTITION_KEY, KeyType: 'HASH' }],
      GlobalSecondaryIndexes: Object.entries(EVIDENCE_INDEXES).map(([IndexName, ix]) => ({
        IndexName,
        KeySchema: [
          { AttributeName: ix.partitionKey, KeyType: 'HASH' },
          { AttributeName: ix.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      })),
    }),
  );
}
