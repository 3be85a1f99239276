// The status.conditions shape of metav1.Condition, shared by every kind.
import { Type } from '@sinclair/typebox';
import { int, list, str, stringEnum, timestamp } from './schema-helpers.ts';

const ConditionSchema = Type.Object(
  {
    type: str('Type of condition in PascalCase, e.g. Ready, Authenticated, KeyStored.', {
      maxLength: 316,
      pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
    }),
    status: stringEnum(['True', 'False', 'Unknown'] as const, 'Status of the condition: True, False or Unknown.'),
    observedGeneration: Type.Optional(int('The metadata.generation this condition was computed from.', { minimum: 0, format: 'int64' })),
    lastTransitionTime: timestamp('Last time the condition changed status.'),
    reason: str('Machine-readable PascalCase reason; reasons are part of the API contract.', {
      minLength: 1,
      maxLength: 1024,
      pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
    }),
    message: str('Human-readable explanation. Never contains secrets or patient data.', { maxLength: 32768 }),
  },
  {
    description: 'A condition in the Kubernetes API conventions shape (metav1.Condition).',
    additionalProperties: false,
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
  },
);

export function conditionsField() {
  return list(
    ConditionSchema,
    'Current state of the resource as conditions. Ready summarises the others; Reconciling and Stalled appear only while True.',
    {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
      maxItems: 32,
    },
  );
}

export function observedGenerationField() {
  return int('The metadata.generation last acted on by the operator, set even when the resource is stalled.', {
    minimum: 0,
    format: 'int64',
  });
}

export function lastHandledRequestedAtField() {
  return str('The last value of the cloudconnect.dev/requestedAt annotation that the operator acted on.', { maxLength: 256 });
}
