/**
 * CDK app: `npx cdk synth` / `npx cdk deploy` (cdk.json runs `npx tsx infra/app.ts`).
 * cdk-nag's AwsSolutions pack runs as a CDK 2 validation plugin: an unacknowledged finding fails
 * synth and is written to cdk.out/validation-report.json.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { propsFromContext, RestoreValidationStack } from './stack';

/** Builds the app (exported so tests synthesize exactly what `cdk synth` does). */
export function buildApp(app: App = new App()): { app: App; stack: RestoreValidationStack } {
  // cdk-nag 3 is a validation plugin; the 2.x `Aspects.of(app).add(...)` form crashes.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const props = propsFromContext((key) => app.node.tryGetContext(key));
  const stack = new RestoreValidationStack(
    app,
    app.node.tryGetContext('restore-validation:stackName') ?? 'RestoreValidation',
    {
      ...props,
      description: 'restore-validation: validates AWS Backup restore tests and reports verdicts',
      // Environment-agnostic (deployable anywhere, synth offline) unless a VPC lookup needs the account.
      ...(props.vpcId
        ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
        : {}),
    },
  );
  return { app, stack };
}

const isMain = process.argv[1] !== undefined && /infra[\\/]app\.ts$/.test(process.argv[1]);
if (isMain) buildApp().app.synth();
