/**
 * Importing this module registers every built-in check kind. Each kind's schema lives beside the code
 * that implements it; kinds implemented under functions/ (which shared/ does not import) stay here.
 */
import { directoryKind, filesKind, freeSpaceKind, pathsKind, uncheckedKind } from '../../files/kinds';
import { lambdaKind } from '../../lambda-check-kind';
import { freshnessKind, rowCountsKind, sqlKind, tablesKind } from '../../sql/kinds';
import { ssmCommandKind } from '../../ssm/kinds';
import { collectionsKind, consoleOutputKind, findKind, graphQueryKind, httpKind } from './instances';
import { compareKind, itemsKind, keysKind, minItemsKind, minObjectsKind } from './objects';
import { type CheckKind, registerCheckKind } from './registry';

export * from '../../files/kinds';
export * from '../../lambda-check-kind';
export * from '../../sql/kinds';
export * from '../../ssm/kinds';
export * from './common';
export * from './instances';
export * from './objects';
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
