/**
 * Importing this module registers every built-in check kind. Each kind's schema lives beside the code
 * that implements it: a family's in its shared folder, a single type's in functions/<type>/kinds.ts
 * (pure schema, imported here so every function's config validation knows every kind), `compare`
 * (S3 and DynamoDB) here.
 */

import { collectionsKind, findKind } from '../../../functions/documentdb/kinds';
import { itemsKind, minItemsKind } from '../../../functions/dynamodb/kinds';
import { consoleOutputKind, httpKind } from '../../../functions/ec2/kinds';
import { graphQueryKind } from '../../../functions/neptune/kinds';
import { keysKind, minObjectsKind } from '../../../functions/s3/kinds';
import { directoryKind, filesKind, freeSpaceKind, pathsKind, uncheckedKind } from '../../files/kinds';
import { lambdaKind } from '../../lambda-check-kind';
import { freshnessKind, rowCountsKind, sqlKind, tablesKind } from '../../sql/kinds';
import { ssmCommandKind } from '../../ssm/kinds';
import { compareKind } from './compare';
import { type CheckKind, registerCheckKind } from './registry';

export * from '../../../functions/documentdb/kinds';
export * from '../../../functions/dynamodb/kinds';
export * from '../../../functions/ec2/kinds';
export * from '../../../functions/neptune/kinds';
export * from '../../../functions/s3/kinds';
export * from '../../files/kinds';
export * from '../../lambda-check-kind';
export * from '../../sql/kinds';
export * from '../../ssm/kinds';
export * from './common';
export * from './compare';
export * from './registry';

/** In this order in the generated JSON Schema (validation.config.schema.json) and in error messages. */
const BUILT_IN: readonly CheckKind[] = [
  pathsKind,
  filesKind,
  directoryKind,
  freeSpaceKind,
  uncheckedKind,
  ssmCommandKind,
  httpKind,
  consoleOutputKind,
  collectionsKind,
  findKind,
  graphQueryKind,
  lambdaKind,
  compareKind,
  keysKind,
  minObjectsKind,
  itemsKind,
  minItemsKind,
  sqlKind,
  freshnessKind,
  tablesKind,
  rowCountsKind,
];
for (const kind of BUILT_IN) registerCheckKind(kind);
