/** The S3 validator's settings, declared once (shared/env.ts reads them). */
import { defineSettings, setting } from '../../shared/env';

/** Variable naming the distributed comparison's state machine (set by infra/constructs/s3-distributed-map.ts). */
export const STATE_MACHINE_SETTING = 'S3_COMPARE_STATE_MACHINE_ARN';

export const s3Settings = defineSettings({
  /** The Distributed Map a comparison too large for one Lambda is handed to; none: it runs here. */
  compareStateMachineArn: setting.text([STATE_MACHINE_SETTING, 'STATE_MACHINE_ARN']),
});
export type S3Settings = ReturnType<typeof s3Settings>;
