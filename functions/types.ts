/**
 * Every validator type's module (functions/<type>/type.ts). Keyed by the types of
 * shared/resource-types.ts, so a type added there fails to compile here until it has a module, and
 * the module's interface (functions/resource-type.ts) lists what it must declare. Infra and the CLI
 * read this table; no Lambda imports it.
 */
import type { ValidatorType } from '../shared/resource-types';
import { aurora } from './aurora/type';
import { documentdb } from './documentdb/type';
import { dynamodb } from './dynamodb/type';
import { ebs } from './ebs/type';
import { ec2 } from './ec2/type';
import { efs } from './efs/type';
import { fsx } from './fsx/type';
import { neptune } from './neptune/type';
import { rds } from './rds/type';
import type { ResourceTypeModule } from './resource-type';
import { s3 } from './s3/type';

export const RESOURCE_TYPE_MODULES: { readonly [T in ValidatorType]: ResourceTypeModule } = {
  rds,
  aurora,
  ebs,
  ec2,
  s3,
  dynamodb,
  efs,
  fsx,
  documentdb,
  neptune,
};
