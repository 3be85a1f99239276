import { PassThrough } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import { Controller } from './controller.ts';
import type { SupervisedInformer } from './informer.ts';
import { createLogger } from './logger.ts';
import { OperatorMetrics } from './metrics.ts';

type Integration = { metadata: { name: string; namespace: string; resourceVersion?: string }; spec: { siteRef: string }; status?: string };
type Event = 'add' | 'update' | 'delete';

/** An informer that delivers the events a test sends, as the cache would. */
function fakeInformer() {
  const handlers: Record<Event, ((obj: Integration) => void)[]> = { add: [], update: [], delete: [] };
  return {
    informer: {
      on: (event: Event, handler: (obj: Integration) => void) => handlers[event].push(handler),
    } as unknown as SupervisedInformer<Integration>,
    send: (event: Event, obj: Integration) => {
      for (const handler of handlers[event]) handler(obj);
    },
  };
}

const integration = (siteRef: string, status?: string): Integration => ({
  metadata: { name: 'accuro', namespace: 'clinic' },
  spec: { siteRef },
  ...(status ? { status } : {}),
});

function controller() {
  const made = new Controller({
    name: 'oceansite',
    reconciler: { reconcile: async () => ({}) },
    logger: createLogger({ stream: new PassThrough() }),
    metrics: new OperatorMetrics(),
  });
  const enqueued = vi.spyOn(made, 'enqueue').mockImplementation(() => undefined);
  return { made, enqueued };
}

describe('watchReferences (a related object reconciles what it names only when that changes)', () => {
  it.each<[string, [Event, Integration][], string[]]>([
    ['reconciles the named site when the object appears', [['add', integration('maple')]], ['clinic/maple']],
    [
      'does not reconcile the site again for an update that names the same site (a status write)',
      [
        ['add', integration('maple')],
        ['update', integration('maple', 'Ready')],
        ['update', integration('maple', 'Failed')],
      ],
      ['clinic/maple'],
    ],
    [
      'reconciles the old and the new site when an update moves the object',
      [
        ['add', integration('maple')],
        ['update', integration('birch')],
      ],
      ['clinic/maple', 'clinic/maple', 'clinic/birch'],
    ],
    [
      'reconciles the site it last named when the object goes',
      [
        ['add', integration('maple')],
        ['delete', integration('maple')],
      ],
      ['clinic/maple', 'clinic/maple'],
    ],
    [
      'reconciles on the first update of an object it never saw added (a cache that started before the watch)',
      [['update', integration('maple')]],
      ['clinic/maple'],
    ],
  ])('%s', (_name, events, expected) => {
    const { informer, send } = fakeInformer();
    const { made, enqueued } = controller();
    made.watchReferences(informer, (i) => [`${i.metadata.namespace}/${i.spec.siteRef}`]);
    for (const [event, obj] of events) send(event, obj);
    expect(enqueued.mock.calls.map((c) => c[0])).toEqual(expected);
  });
});
