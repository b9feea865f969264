/**
 * `restore-validation check ebs --device PATH`: the mount check on a local block device or image file.
 * The mount-check program attaches its own read-only loop devices (for a file and for each
 * partition) and releases them before it returns, also when a check fails.
 */
import type { LocalTarget } from '../../shared/local';
import { ebsValidator } from './validator';

export const cliTarget: LocalTarget = {
  type: 'ebs',
  resourceType: 'EBS',
  summary: 'fsck, read-only mount and file checks on a block device or disk image (needs root)',
  options: [
    {
      flags: '--device <path>',
      description:
        'block device (/dev/nvme1n1) or image file; a file is attached as a read-only loop device and released after',
      required: true,
    },
  ],
  validator: ebsValidator,
};
