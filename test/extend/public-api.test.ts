/**
 * The package root is the whole public API: it resolves by the package's own name, the extension
 * layer shim re-exports every value of it, and every built-in validator is an ordinary validator
 * module that loads through the same loader users' modules go through (no private back door).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as api from 'restore-validation';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/bundling';

describe('package root', () => {
  it('resolves restore-validation to index.ts by the package self-reference', () => {
    const require = createRequire(join(PROJECT_ROOT, 'examples', 'x.js'));
    expect(require.resolve('restore-validation')).toBe(join(PROJECT_ROOT, 'index.ts'));
    expect(require.resolve('restore-validation/infra')).toBe(join(PROJECT_ROOT, 'infra', 'index.ts'));
  });

  it('exports the API the issue promises', () => {
    for (const name of [
      'defineCheck',
      'pass',
      'fail',
      'skip',
      'errored',
      'defineValidator',
      'DeferredValidation',
      'registerCheckKind',
      'registerCheckImplementation',
      'createValidatorHandler',
      'loadValidatorModule',
      'loadCheckExtensions',
    ]) {
      expect(api, name).toHaveProperty(name);
      expect((api as Record<string, unknown>)[name], name).toBeDefined();
    }
  });

  it('has the lambda check kind implemented once the package root is imported', () => {
    expect(api.checkKind('lambda')).toBeDefined();
    expect(api.checkImplementation('lambda')).toBeTypeOf('function');
  });

  it('re-exports every value of the package root from the extension layer shim', () => {
    const shim = readFileSync(join(PROJECT_ROOT, 'shared', 'extension-api.ts'), 'utf8');
    const shimNames = [...shim.matchAll(/^export const (\w+) =/gm)].map((m) => m[1]).sort();
    expect(shimNames).toEqual(Object.keys(api).sort());
  });
});

describe('extension host API', () => {
  it('publishes to layers the very objects the package root exports (one registry, one zod)', async () => {
    const { extensionHostApi } = await import('../../shared/extension-host');
    const host = extensionHostApi();
    for (const [name, value] of Object.entries(host)) {
      if (name === 'z') continue;
      expect((api as Record<string, unknown>)[name], name).toBe(value);
    }
    // z: the schema builders only (not the whole namespace, which would keep all of zod in every
    // bundle), each the package's very own function so layer schemas compose with the config schema
    const z = host.z as Record<string, unknown>;
    for (const [name, value] of Object.entries(z))
      expect((api.z as unknown as Record<string, unknown>)[name], `z.${name}`).toBe(value);
    for (const name of [
      'strictObject',
      'object',
      'string',
      'number',
      'boolean',
      'array',
      'enum',
      'union',
      'literal',
      'record',
      'optional',
      'ZodError',
    ])
      expect(z[name], `z.${name}`).toBeTypeOf('function');
    expect(z).not.toHaveProperty('locales');
    expect(z).not.toHaveProperty('toJSONSchema');
    for (const name of [
      'registerCheckKind',
      'registerCheckImplementation',
      'checkBase',
      'defineCheck',
      'z',
      'registerClients',
    ]) {
      expect(host, name).toHaveProperty(name);
    }
  });
});

describe('built-in validators', () => {
  const types = readdirSync(join(PROJECT_ROOT, 'functions')).filter((t) => {
    try {
      readFileSync(join(PROJECT_ROOT, 'functions', t, 'validator.ts'));
      return true;
    } catch {
      return false;
    }
  });

  it.each(types)('loads functions/%s/validator.ts through the public validator loader', async (type) => {
    const mod = await api.loadValidatorModule(join(PROJECT_ROOT, 'functions', type, 'validator.ts'));
    expect(mod.validator.name).toMatch(/^[a-z][a-z0-9-]*$/);
    expect(mod.validator.resourceTypes.length).toBeGreaterThan(0);
    for (const t of mod.validator.resourceTypes) expect(api.RESOURCE_TYPES).toContain(t);
  });
});
