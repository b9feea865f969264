/**
 * Restore testing plan ARNs in both forms AWS uses: the plan name followed by eight hex digits, or by
 * a full UUID. The name ends at the first `-` (plan names allow only letters, digits and `_`).
 */
export const PLAN_ARN_FORMS = [
  {
    form: 'eight hex digits',
    name: 'nightly_restore_tests',
    arn: 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:nightly_restore_tests-1a2b3c4d',
  },
  {
    form: 'full UUID',
    name: 'weekly_db_tests',
    arn: 'arn:aws:backup:us-east-1:123456789012:restore-testing-plan:weekly_db_tests-867cbaf4-a45d-4ec5-9a1b-0c2d3e4f5a6b',
  },
] as const;
