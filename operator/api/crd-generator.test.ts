import { readFileSync } from 'node:fs';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { type JsonSchemaProps, SchemaError, toCrd, toStructural } from './crd-generator.ts';
import { renderedCrds } from './generate.ts';
import { EMR_INTEGRATION, KINDS, OCEAN_SITE, SYNC_SCHEDULE } from './v1alpha1/index.ts';

function walk(schema: JsonSchemaProps, path: string, visit: (s: JsonSchemaProps, p: string) => void): void {
  visit(schema, path);
  const props = schema.properties as Record<string, JsonSchemaProps> | undefined;
  for (const [name, child] of Object.entries(props ?? {})) walk(child, `${path}.${name}`, visit);
  if (schema.items) walk(schema.items as JsonSchemaProps, `${path}[*]`, visit);
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    walk(schema.additionalProperties as JsonSchemaProps, `${path}{*}`, visit);
  }
}

function openApi(kind: (typeof KINDS)[number]): JsonSchemaProps {
  const version = (toCrd(kind).spec.versions as { schema: { openAPIV3Schema: JsonSchemaProps } }[])[0]!;
  return version.schema.openAPIV3Schema;
}

function field(kind: (typeof KINDS)[number], path: string): JsonSchemaProps {
  let node = openApi(kind);
  for (const part of path.split('.')) node = (node.properties as Record<string, JsonSchemaProps>)[part]!;
  return node;
}

describe('the CRD generator', () => {
  it.each(KINDS.map((k) => [k.kind, k] as const))('gives every field of %s a description', (_name, kind) => {
    const missing: string[] = [];
    walk(openApi(kind), kind.kind, (s, p) => {
      // metadata is the API server's own: it forbids anything but `type` there.
      if (p === `${kind.kind}.metadata`) return;
      if (typeof s.description !== 'string' || s.description.length === 0) missing.push(p);
    });
    expect(missing).toEqual([]);
  });

  it.each(KINDS.map((k) => [k.kind, k] as const))(
    'gives %s a status subresource, the category and Ready/Reason/Age columns',
    (_n, kind) => {
      const crd = toCrd(kind);
      const version = (crd.spec.versions as Record<string, unknown>[])[0]!;
      expect(version.subresources).toEqual({ status: {} });
      expect((crd.spec.names as { categories: string[] }).categories).toEqual(['cloudconnect']);
      const columns = (version.additionalPrinterColumns as { name: string }[]).map((c) => c.name);
      expect(columns).toEqual(expect.arrayContaining(['Ready', 'Reason', 'Age']));
    },
  );

  it('refuses a field without a description', () => {
    expect(() => toStructural(Type.Object({ a: Type.String() }, { description: 'x' }), 'spec')).toThrow(SchemaError);
    expect(() => toStructural(Type.Object({ a: Type.String() }, { description: 'x' }), 'spec')).toThrow(
      /spec\.a: every field needs a description/,
    );
  });

  it('refuses a union, which a structural schema cannot express', () => {
    const union = Type.Union([Type.Literal('a'), Type.Literal('b')], { description: 'u' });
    expect(() => toStructural(union, 'spec.u')).toThrow(/anyOf is only allowed for int-or-string|keyword/);
  });

  it('renders maps as additionalProperties', () => {
    const out = toStructural(Type.Record(Type.String(), Type.String(), { description: 'labels' }), 'spec.l');
    expect(out).toMatchObject({ type: 'object', additionalProperties: { type: 'string' } });
    expect(out).not.toHaveProperty('patternProperties');
  });

  it('writes the same files that are committed under crds/ (no drift)', () => {
    for (const [name, text] of renderedCrds()) expect(readFileSync(new URL(`../../crds/${name}`, import.meta.url), 'utf8')).toBe(text);
  });
});

describe('the v1alpha1 API', () => {
  it.each([
    [
      'defaults scheduleDaysToSync to 1 within 1..31',
      EMR_INTEGRATION,
      'spec.settings.scheduleDaysToSync',
      { default: 1, minimum: 1, maximum: 31 },
    ],
    ['defaults markArrivedWithinHours to 2', EMR_INTEGRATION, 'spec.settings.markArrivedWithinHours', { default: 2 }],
    ['defaults autoImportAttachments to true', EMR_INTEGRATION, 'spec.settings.autoImportAttachments', { default: true }],
    ['defaults the auth check interval to 1h', EMR_INTEGRATION, 'spec.auth.checkInterval', { default: '1h' }],
    [
      'defaults concurrencyPolicy to Forbid',
      SYNC_SCHEDULE,
      'spec.concurrencyPolicy',
      { default: 'Forbid', enum: ['Allow', 'Forbid', 'Replace'] },
    ],
    ['keeps three successful and one failed run', SYNC_SCHEDULE, 'spec.successfulRunsHistoryLimit', { default: 3 }],
    ['defaults the time zone to UTC', SYNC_SCHEDULE, 'spec.timeZone', { default: 'UTC' }],
    [
      'lists EMR types as an enum',
      EMR_INTEGRATION,
      'spec.emr.type',
      { enum: ['PSSuite', 'MedAccess', 'Accuro', 'OSCARPro', 'FHIR', 'None'] },
    ],
  ] as const)('%s', (_name, kind, path, expected) => {
    expect(field(kind, path)).toMatchObject(expected);
  });

  it("defaults no SEK mount (the operator's SEK_KV_MOUNT is the only one)", () => {
    expect(field(OCEAN_SITE, 'spec.encryptionKey.vault.mount').default).toBeUndefined();
  });

  it("checks on the OceanSite's root, where the name is visible, that a vault.path names the site's own key", () => {
    const rules = openApi(OCEAN_SITE)['x-kubernetes-validations'] as { rule: string; fieldPath: string; optionalOldSelf: boolean }[];
    expect(rules).toHaveLength(2);
    expect(rules[0]).toMatchObject({ fieldPath: '.spec.encryptionKey.vault.path', optionalOldSelf: true });
    expect(rules[0]?.rule).toContain("endsWith('/' + self.metadata.name + '/sek')");
    expect(openApi(EMR_INTEGRATION)['x-kubernetes-validations']).toBeUndefined();
  });

  it('has no field named like an inline secret anywhere in a spec', () => {
    const suspicious: string[] = [];
    for (const kind of KINDS) {
      walk(openApi(kind), kind.kind, (_s, p) => {
        const leaf = p.split('.').pop() ?? '';
        if (p.includes('.spec.') && /password|secret$|^token$|accesstoken|^sek$|apikey|^key$/i.test(leaf) && !/SecretRef|secretRef/.test(p))
          suspicious.push(p);
      });
    }
    expect(suspicious).toEqual([]);
  });

  it('names the field in every CEL message', () => {
    const bad: string[] = [];
    for (const kind of KINDS) {
      walk(openApi(kind), kind.kind, (s, p) => {
        for (const rule of (s['x-kubernetes-validations'] as { message: string }[] | undefined) ?? []) {
          if (!/(spec|metadata)\.[a-zA-Z.]+/.test(rule.message)) bad.push(`${p}: ${rule.message}`);
        }
      });
    }
    expect(bad).toEqual([]);
  });
});
