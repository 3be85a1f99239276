import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { withDefaults } from './defaults.ts';

const Spec = Type.Object({
  timeZone: Type.String({ default: 'UTC' }),
  retention: Type.Object({ days: Type.Integer({ default: 30 }) }, { default: {} }),
});
type Spec = { timeZone: string; retention: { days: number } };

describe('withDefaults (API defaults from the typed schema, once per spec object)', () => {
  it('fills every default, nested ones too, and keeps what the spec says', () => {
    expect(withDefaults<Spec>(Spec, { timeZone: 'America/Toronto' })).toEqual({ timeZone: 'America/Toronto', retention: { days: 30 } });
  });

  it('leaves the spec it was given as it was', () => {
    const spec = { timeZone: 'America/Toronto' };
    withDefaults<Spec>(Spec, spec);
    expect(spec).toEqual({ timeZone: 'America/Toronto' });
  });

  it('returns the same result for the same spec object, and a new one for a new object', () => {
    const spec = {};
    expect(withDefaults<Spec>(Spec, spec)).toBe(withDefaults<Spec>(Spec, spec));
    expect(withDefaults<Spec>(Spec, {})).not.toBe(withDefaults<Spec>(Spec, spec));
  });

  it('refuses a write to the shared result, at any depth (the next reader sees what the API said)', () => {
    const defaulted = withDefaults<Spec>(Spec, {});
    expect(() => {
      defaulted.timeZone = 'Europe/Paris';
    }).toThrow(TypeError);
    expect(() => {
      defaulted.retention.days = 1;
    }).toThrow(TypeError);
    expect(withDefaults<Spec>(Spec, undefined)).toEqual({ timeZone: 'UTC', retention: { days: 30 } });
  });
});
