/** The Backup restore API fake lives with the CLI (the demo uses it too); tests import it from here. */
export { type Fault, FakeBackupApi, type FakeOperation, type FakeRestoreJob } from '../../bin/fake-backup-api';
