// Pure: can the integration's EMR take this message? Decided at the webhook, before anything is
// stored: a message the EMR's API cannot take is refused there (HTTP 422 naming the EMR type and
// the message type, counted as `unsupported` in cloudconnect_relay_webhook_requests_total) instead
// of being queued and dead-lettered an hour later. What each EMR type can take comes from its
// adapter class (internal/emr/index.ts emrCapabilities); what each message needs is below. Today
// every adapter has every optional call, so nothing is refused in practice; the check stays so that
// an EMR added without them (or one whose API loses them) refuses at intake. deliver.ts keeps its
// runtime guards for messages stored before.
import { type EmrAdapterType, type EmrCapabilities, type EmrCapability, emrCapabilities } from '../../internal/emr/index.ts';
import type { MessageType, OceanMessage } from './messages.ts';

/** What a message of each type needs beyond documents and chart notes (which every adapter files); types not listed need nothing more. */
const NEEDS: Partial<Record<MessageType, EmrCapability>> = { demographicUpdate: 'demographicUpdates' };

/** What the EMR cannot do, in the words of a refusal. */
const WHAT: Record<EmrCapability, string> = {
  demographicUpdates: 'apply a demographic update',
  customFields: 'write custom demographic fields',
};

export interface IntakeRefusal {
  emrType: EmrAdapterType;
  messageType: MessageType;
  capability: EmrCapability;
  /** For the webhook's answer: names the EMR type and the message type, never a value of the message. */
  reason: string;
}

/** The capability this message needs of its EMR under the integration's settings, if any. */
export function capabilityNeeded(message: OceanMessage, settings: { customFields: boolean }): EmrCapability | undefined {
  if (message.type === 'eFormNote' && settings.customFields && (message.customFields?.length ?? 0) > 0) return 'customFields';
  return NEEDS[message.type];
}

/** Why the EMR cannot take the message (a refusal at intake), or undefined when it can. */
export function intakeRefusal(
  emrType: EmrAdapterType,
  message: OceanMessage,
  settings: { customFields: boolean },
  capabilities: EmrCapabilities = emrCapabilities(emrType),
): IntakeRefusal | undefined {
  const capability = capabilityNeeded(message, settings);
  if (!capability || capabilities[capability]) return undefined;
  return {
    emrType,
    messageType: message.type,
    capability,
    reason: `a ${message.type} message cannot be delivered: the ${emrType} EMR's API cannot ${WHAT[capability]}`,
  };
}
