import { describe, expect, it } from 'vitest';
import type { OceanSiteSpec } from '../../api/v1alpha1/index.ts';
import { specError } from './validate.ts';

const spec = (timeZone?: string): OceanSiteSpec => ({
  siteNumber: '1234',
  clinicalAdminEmail: 'admin@clinic.example.org',
  ...(timeZone === undefined ? {} : { timeZone }),
});

describe('a spec', () => {
  it.each([
    ['works without a time zone (UTC)', spec(), undefined],
    ['works with a known IANA time zone', spec('America/Toronto'), undefined],
    ['stalls with an unknown time zone', spec('Mars/Olympus'), 'InvalidTimeZone'],
  ])('%s', (_name, s, reason) => {
    expect(specError(s)?.reason).toBe(reason);
  });
});
