import { describe, expect, it } from 'vitest';
import type { EmrIntegration, OceanSite, SyncSchedule } from '../../api/v1alpha1/index.ts';
import { health, relativeTime } from './health.ts';
import { renderStatus, renderStatusAllNamespaces, type StatusInput } from './status-render.ts';

const now = new Date('2026-11-28T12:00:00Z');
const t = (minutes: number) => new Date(now.getTime() + minutes * 60_000).toISOString();
const cond = (type: string, status: 'True' | 'False' | 'Unknown', reason: string, message = '') => ({
  type,
  status,
  reason,
  message,
  lastTransitionTime: t(-60),
});

function site(name: string, conditions = [cond('Ready', 'True', 'KeyStored')]): OceanSite {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'OceanSite',
    metadata: { name, namespace: 'clinic' },
    spec: { siteNumber: '4271', displayName: 'Maple FHT', clinicalAdminEmail: 'a@b.org' },
    status: { conditions, encryptionKey: { version: 3, fingerprint: 'a1b2c3d4e5f60718' } },
  } as OceanSite;
}

function integration(name: string, siteName: string, status: Record<string, unknown> = {}, type = 'Accuro'): EmrIntegration {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'EmrIntegration',
    metadata: { name, namespace: 'clinic' },
    spec: { siteRef: { name: siteName }, emr: { type } },
    status,
  } as EmrIntegration;
}

function schedule(
  name: string,
  integrationName: string,
  type: 'Full' | 'Appointments' | 'Reminders',
  status: Record<string, unknown> = {},
  suspend = false,
): SyncSchedule {
  return {
    apiVersion: 'cloudconnect.dev/v1alpha1',
    kind: 'SyncSchedule',
    metadata: { name, namespace: 'clinic' },
    spec: {
      integrationRef: { name: integrationName },
      type,
      schedule: type === 'Full' ? '0 0 * * *' : '*/30 * * * *',
      timeZone: 'America/Toronto',
      suspend,
    },
    status,
  } as SyncSchedule;
}

const input = (parts: Partial<StatusInput>): StatusInput => ({
  namespace: 'clinic',
  sites: [],
  integrations: [],
  schedules: [],
  now,
  color: false,
  ...parts,
});

describe('health', () => {
  it.each([
    [
      'is Stalled when Stalled is True, whatever Ready says',
      [cond('Ready', 'False', 'InvalidSchedule'), cond('Stalled', 'True', 'InvalidSchedule')],
      'Stalled',
      'InvalidSchedule',
    ],
    ['is Ready when Ready is True', [cond('Ready', 'True', 'Scheduled')], 'Ready', 'Scheduled'],
    ['is Suspended when Ready is True for Suspended', [cond('Ready', 'True', 'Suspended')], 'Suspended', 'Suspended'],
    [
      'is Blocked when a schedule waits for its integration',
      [cond('Ready', 'False', 'IntegrationNotReady')],
      'Blocked',
      'IntegrationNotReady',
    ],
    ['is Blocked when an integration waits for its site', [cond('Ready', 'False', 'SiteNotReady')], 'Blocked', 'SiteNotReady'],
    [
      'is NotReady with the reason when Ready is False for anything else',
      [cond('Ready', 'False', 'EmrUnreachable')],
      'NotReady',
      'EmrUnreachable',
    ],
    [
      'is Reconciling while Reconciling is True and Ready is not',
      [cond('Ready', 'Unknown', 'Progressing'), cond('Reconciling', 'True', 'Progressing')],
      'Reconciling',
      'Progressing',
    ],
    ['is Pending when the operator has written no condition yet', [], 'Pending', 'NotObservedYet'],
  ] as const)('%s', (_name, conditions, word, reason) => {
    expect(health([...conditions])).toMatchObject({ word, reason });
  });
});

describe('relativeTime', () => {
  it.each([
    ['says how long ago a past time was', t(-12), '12m ago'],
    ['says how soon a future time is', t(25), 'in 25m'],
    ['uses hours and minutes below ten hours', t(-150), '2h30m ago'],
    ['uses days beyond a day', t(3 * 24 * 60 + 5), 'in 3d'],
    ['prints the placeholder for a missing time', undefined, 'never'],
  ])('%s', (_name, iso, expected) => {
    expect(relativeTime(iso, now, 'never')).toBe(expected);
  });
});

describe('renderStatus', () => {
  const healthySchedules = [
    schedule('maple-accuro-full', 'maple-accuro', 'Full', {
      conditions: [cond('Ready', 'True', 'Scheduled')],
      lastRun: { name: 'maple-accuro-full-1', result: 'Succeeded', completionTime: t(-600) },
      lastSuccessfulTime: t(-600),
      nextScheduleTime: t(720),
    }),
    schedule('maple-accuro-appointments', 'maple-accuro', 'Appointments', {
      conditions: [cond('Ready', 'True', 'Scheduled')],
      lastRun: { name: 'maple-accuro-appointments-2', result: 'Failed', errorReason: 'EmrUnreachable', completionTime: t(-5) },
      nextScheduleTime: t(25),
      active: [{ name: 'maple-accuro-appointments-manual-1a2b3c4d' }],
    }),
  ];
  const authenticated = {
    conditions: [cond('Ready', 'True', 'Authenticated'), cond('Authenticated', 'True', 'Authenticated')],
    auth: { notAfter: t(60 * 24 * 10), lastCheckTime: t(-3) },
    sync: { lastSyncTime: t(-600), nextSyncTime: t(25), lastError: 'EmrUnreachable' },
  };

  it("shows a Reminders schedule's last run with its sent, skipped and failed counts", () => {
    const reminders = schedule('maple-accuro-reminders', 'maple-accuro', 'Reminders', {
      conditions: [cond('Ready', 'True', 'Scheduled')],
      lastRun: { name: 'maple-accuro-reminders-1', result: 'Succeeded', completionTime: t(-5), sent: 12, skipped: 2, failed: 0 },
      lastSuccessfulTime: t(-5),
      nextScheduleTime: t(10),
    });
    const out = renderStatus(
      input({ sites: [site('maple')], integrations: [integration('maple-accuro', 'maple', authenticated)], schedules: [reminders] }),
    );
    expect(out).toContain('last run Succeeded 5m ago · sent 12, skipped 2, failed 0 · last success 5m ago · next in 10m');
  });

  it.each([
    [
      'draws the site, its integration and both schedules as a tree with last and next sync',
      input({ sites: [site('maple')], integrations: [integration('maple-accuro', 'maple', authenticated)], schedules: healthySchedules }),
      [
        'OceanSite/maple (#4271 Maple FHT)  Ready (KeyStored)  SEK v3 a1b2c3d4e5f60718',
        '└── EmrIntegration/maple-accuro  Accuro  Ready (Authenticated)',
        '    auth: Authenticated · expires in 10d · checked 3m ago',
        '    sync: last 10h ago · next in 25m · last error EmrUnreachable',
        '    ├── SyncSchedule/maple-accuro-full  Full "0 0 * * *" America/Toronto  Ready (Scheduled)',
        '    │   last run Succeeded 10h ago · last success 10h ago · next in 12h',
        '    └── SyncSchedule/maple-accuro-appointments  Appointments "*/30 * * * *" America/Toronto  Ready (Scheduled)',
        '        last run Failed (EmrUnreachable) 5m ago · last success never · next in 25m  running: maple-accuro-appointments-manual-1a2b3c4d',
      ],
    ],
    [
      'shows a schedule as Blocked with the message while its integration is not authenticated',
      input({
        sites: [site('maple')],
        integrations: [
          integration('maple-accuro', 'maple', {
            conditions: [
              cond('Ready', 'False', 'InvalidCredentials', 'the EMR refused the API user'),
              cond('Authenticated', 'False', 'InvalidCredentials'),
            ],
          }),
        ],
        schedules: [
          schedule('maple-accuro-full', 'maple-accuro', 'Full', {
            conditions: [cond('Ready', 'False', 'IntegrationNotReady', 'Blocked: EmrIntegration maple-accuro is not Authenticated')],
          }),
        ],
      }),
      [
        '└── EmrIntegration/maple-accuro  Accuro  NotReady (InvalidCredentials)',
        '    auth: not Authenticated (InvalidCredentials)',
        '    the EMR refused the API user',
        '    └── SyncSchedule/maple-accuro-full  Full "0 0 * * *" America/Toronto  Blocked (IntegrationNotReady)',
        '        no run yet · last success never · next not scheduled',
        '        Blocked: EmrIntegration maple-accuro is not Authenticated',
      ],
    ],
    [
      'shows a Stalled schedule with its reason',
      input({
        sites: [site('maple')],
        integrations: [integration('maple-none', 'maple', { conditions: [cond('Ready', 'True', 'NonIntegrated')] }, 'None')],
        schedules: [
          schedule('bad', 'maple-none', 'Full', { conditions: [cond('Stalled', 'True', 'InvalidSchedule', 'minute 61 is out of range')] }),
        ],
      }),
      ['    └── SyncSchedule/bad  Full "0 0 * * *" America/Toronto  Stalled (InvalidSchedule)', '        minute 61 is out of range'],
    ],
    [
      'shows a non-integrated site with no auth, sync or schedule lines',
      input({
        sites: [site('maple')],
        integrations: [integration('maple-none', 'maple', { conditions: [cond('Ready', 'True', 'NonIntegrated')] }, 'None')],
      }),
      ['└── EmrIntegration/maple-none  None  Ready (NonIntegrated)'],
    ],
    [
      'says an integration with an EMR waits for its default schedules',
      input({ sites: [site('maple')], integrations: [integration('maple-accuro', 'maple', {})] }),
      ['    (no SyncSchedule yet: the operator creates the two defaults)'],
    ],
    [
      'warns about missing providers, conflicts and an expiring credential',
      input({
        sites: [site('maple')],
        integrations: [
          integration('maple-accuro', 'maple', {
            conditions: [
              cond('Ready', 'True', 'Authenticated'),
              cond('Authenticated', 'True', 'Authenticated'),
              cond('AuthExpiringSoon', 'True', 'AuthExpiringSoon'),
              cond('CredentialConflict', 'True', 'SharedApiUser'),
            ],
            auth: { notAfter: t(60 * 30) },
            providers: { missing: ['5013', '5020'] },
          }),
        ],
      }),
      [
        '    auth: Authenticated · expires in 1d (AuthExpiringSoon)',
        '    warnings: CredentialConflict · providers not visible to the API user: 5013, 5020',
      ],
    ],
    [
      'shows the message relay: Delivering, the backlog and dead letters',
      input({
        sites: [site('maple')],
        integrations: [
          integration('maple-accuro', 'maple', {
            conditions: [
              cond('Ready', 'True', 'Authenticated'),
              cond('Authenticated', 'True', 'Authenticated'),
              cond('Delivering', 'False', 'EmrUnreachable'),
            ],
            relay: { pending: 12, oldestPendingAge: '40m', deadLettered: 2, lastFailureReason: 'EmrUnreachable' },
          }),
        ],
      }),
      ['    relay: not delivering (EmrUnreachable) · 12 pending (oldest 40m) · 2 dead-lettered · last failure EmrUnreachable'],
    ],
    [
      'groups integrations whose site does not exist under a NotFound site',
      input({ integrations: [integration('lost', 'gone', {})] }),
      ['OceanSite/gone  NotFound', '└── EmrIntegration/lost  Accuro  Pending (NotObservedYet)'],
    ],
    [
      'says so when the namespace has no Cloud Connect resources',
      input({}),
      ['  No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in namespace clinic.'],
    ],
    [
      'marks a site whose key is not stored yet',
      input({
        sites: [
          {
            ...site('maple', [cond('Ready', 'False', 'ImportSecretNotFound', 'Secret maple-sek-import not found')]),
            status: { conditions: [cond('Ready', 'False', 'ImportSecretNotFound', 'Secret maple-sek-import not found')] },
          },
        ],
      }),
      [
        'OceanSite/maple (#4271 Maple FHT)  NotReady (ImportSecretNotFound)  SEK not stored',
        '│   Secret maple-sek-import not found',
        '└── (no EmrIntegration)',
      ],
    ],
  ])('%s', (_name, given, expectedLines) => {
    const lines = renderStatus(given).split('\n');
    for (const line of expectedLines) expect(lines).toContain(line);
  });

  it('prints nothing under a non-integrated site: no auth, no sync, no schedule hint', () => {
    const out = renderStatus(
      input({
        sites: [site('maple')],
        integrations: [integration('maple-none', 'maple', { conditions: [cond('Ready', 'True', 'NonIntegrated')] }, 'None')],
      }),
    );
    expect(out.trimEnd().split('\n').pop()).toBe('└── EmrIntegration/maple-none  None  Ready (NonIntegrated)');
  });

  it("hangs a site's own reminders schedule (spec.siteRef) under the site, after its integrations, not under a missing integration", () => {
    const siteReminders: SyncSchedule = {
      ...schedule('maple-referral-reminders', '', 'Reminders', {
        conditions: [cond('Ready', 'True', 'Scheduled')],
        nextScheduleTime: t(11),
      }),
      spec: { siteRef: { name: 'maple' }, type: 'Reminders', schedule: 'H/15 * * * *', timeZone: 'America/Toronto' },
    } as SyncSchedule;
    const out = renderStatus(
      input({
        sites: [site('maple')],
        integrations: [integration('maple-none', 'maple', { conditions: [cond('Ready', 'True', 'NonIntegrated')] }, 'None')],
        schedules: [siteReminders],
      }),
    );
    expect(out.split('\n').slice(2)).toEqual([
      '├── EmrIntegration/maple-none  None  Ready (NonIntegrated)',
      '└── SyncSchedule/maple-referral-reminders  Reminders "H/15 * * * *" America/Toronto  Ready (Scheduled)',
      '    no run yet · last success never · next in 11m',
      '',
    ]);
    expect(out).not.toContain('NotFound');
  });

  it('prints no escape codes without colour and colours the health words with it', () => {
    const given = input({
      sites: [site('maple')],
      integrations: [integration('maple-accuro', 'maple', authenticated)],
      schedules: healthySchedules,
    });
    // biome-ignore lint/suspicious/noControlCharactersInRegex: looks for the ANSI escape (ESC) that starts a colour code
    expect(renderStatus(given)).not.toMatch(/\u001b\[/);
    const coloured = renderStatus({ ...given, color: true });
    expect(coloured).toContain('\u001b[32mReady\u001b[39m');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour codes (ESC [ … m) the renderer writes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(renderStatus(given));
  });
});

describe('renderStatusAllNamespaces', () => {
  const inNamespace = <T extends { metadata: { namespace?: string } }>(namespace: string, o: T): T => ({
    ...o,
    metadata: { ...o.metadata, namespace },
  });
  const ready = (reason: string) => ({ conditions: [cond('Ready', 'True', reason)] });
  const fleet = {
    sites: [
      inNamespace('clinic-maple', site('maple')),
      inNamespace('clinic-birch', {
        ...site('birch', [cond('Ready', 'False', 'ImportSecretNotFound')]),
        spec: { siteNumber: '5151', displayName: 'Birch Clinic', clinicalAdminEmail: 'a@b.org' },
        status: { conditions: [cond('Ready', 'False', 'ImportSecretNotFound')] },
      } as OceanSite),
    ],
    integrations: [
      inNamespace(
        'clinic-maple',
        integration('maple-accuro', 'maple', { ...ready('Authenticated'), sync: { lastSyncTime: t(-600), nextSyncTime: t(25) } }),
      ),
      inNamespace('clinic-birch', integration('birch-none', 'birch', ready('NonIntegrated'), 'None')),
      // The same name in another namespace is another integration; its site is not in that namespace.
      inNamespace('clinic-oak', integration('maple-accuro', 'maple', {})),
    ],
    schedules: [
      inNamespace(
        'clinic-maple',
        schedule('maple-accuro-full', 'maple-accuro', 'Full', {
          ...ready('Scheduled'),
          lastRun: { name: 'r1', result: 'Succeeded', completionTime: t(-600) },
          nextScheduleTime: t(720),
        }),
      ),
      inNamespace(
        'clinic-maple',
        schedule('maple-accuro-appointments', 'maple-accuro', 'Appointments', {
          conditions: [cond('Ready', 'False', 'EmrUnreachable')],
          lastRun: { name: 'r2', result: 'Failed', errorReason: 'EmrUnreachable', completionTime: t(-5) },
          nextScheduleTime: t(25),
          active: [{ name: 'r3' }],
        }),
      ),
      inNamespace('clinic-oak', schedule('oak-full', 'oak-accuro', 'Full', {}, true)),
      inNamespace('clinic-birch', {
        ...schedule('birch-reminders', '', 'Reminders'),
        spec: { siteRef: { name: 'birch' }, type: 'Reminders', schedule: 'H/15 * * * *', timeZone: 'America/Toronto' },
      } as SyncSchedule),
    ],
  };

  it('lists every resource of every namespace in one table with a NAMESPACE column, sorted by namespace, kind and name', () => {
    expect(renderStatusAllNamespaces({ ...fleet, now, color: false })).toBe(
      [
        'NAMESPACE      KIND             NAME                        HEALTH                            LAST SYNC                        NEXT SYNC   DETAIL',
        'clinic-birch   OceanSite        birch                       NotReady (ImportSecretNotFound)   -                                -           #5151 Birch Clinic · SEK not stored',
        'clinic-birch   EmrIntegration   birch-none                  Ready (NonIntegrated)             -                                -           None · site birch',
        'clinic-birch   SyncSchedule     birch-reminders             Pending (NotObservedYet)          never                            -           Reminders "H/15 * * * *" America/Toronto · site birch',
        'clinic-maple   OceanSite        maple                       Ready (KeyStored)                 -                                -           #4271 Maple FHT · SEK v3 a1b2c3d4e5f60718',
        'clinic-maple   EmrIntegration   maple-accuro                Ready (Authenticated)             10h ago                          in 25m      Accuro · site maple',
        'clinic-maple   SyncSchedule     maple-accuro-appointments   NotReady (EmrUnreachable)         Failed (EmrUnreachable) 5m ago   in 25m      Appointments "*/30 * * * *" America/Toronto · integration maple-accuro · running: r3',
        'clinic-maple   SyncSchedule     maple-accuro-full           Ready (Scheduled)                 Succeeded 10h ago                in 12h      Full "0 0 * * *" America/Toronto · integration maple-accuro',
        'clinic-oak     EmrIntegration   maple-accuro                Pending (NotObservedYet)          never                            -           Accuro · site maple (not found)',
        'clinic-oak     SyncSchedule     oak-full                    Pending (NotObservedYet)          never                            suspended   Full "0 0 * * *" America/Toronto · integration oak-accuro (not found)',
        '',
      ].join('\n'),
    );
  });

  it('says so when no namespace has Cloud Connect resources', () => {
    expect(renderStatusAllNamespaces({ sites: [], integrations: [], schedules: [], now, color: false })).toBe(
      'No Cloud Connect resources (OceanSite, EmrIntegration, SyncSchedule) in any namespace.\n',
    );
  });

  it('colours only the health words and run results, and keeps the columns aligned as without colour', () => {
    const plain = renderStatusAllNamespaces({ ...fleet, now, color: false });
    const coloured = renderStatusAllNamespaces({ ...fleet, now, color: true });
    expect(coloured).toContain('\u001b[31mNotReady\u001b[39m (ImportSecretNotFound)');
    expect(coloured).toContain('\u001b[32mSucceeded\u001b[39m 10h ago');
    // biome-ignore lint/suspicious/noControlCharactersInRegex: strips the ANSI colour escapes the renderer writes
    expect(coloured.replace(/\u001b\[[0-9;]*m/g, '')).toBe(plain);
  });
});
