/** The EC2 validator's settings, declared once (shared/env.ts reads them). */
import { defineSettings, setting } from '../../shared/env';

export const ec2Settings = defineSettings({
  /** How long to wait for the instance's status checks. */
  statusWaitSeconds: setting.number('EC2_STATUS_WAIT_SECONDS', 600),
  /** Poll interval of that wait. */
  pollSeconds: setting.number('EC2_POLL_SECONDS', 15),
  /** Poll interval of an SSM command's result. */
  ssmPollMs: setting.number('SSM_POLL_MS', 2000),
});
export type Ec2Settings = ReturnType<typeof ec2Settings>;
