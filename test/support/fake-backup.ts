/** The Backup restore API fake lives with the CLI (the demo uses it too); tests import it from here. */
export {
  FakeBackupApi,
  type FakeOperation,
  type FakeRestoreJob,
  type Fault,
} from '../../bin/fake-backup-api';
