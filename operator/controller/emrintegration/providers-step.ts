// Step 4, providers: what the sync settings meet in the EMR (providers.ts decides). ProvidersVisible
// names the configured providers (spec.settings.syncProviderIds) the API user cannot see, or the ones
// it no longer sees; NewProvidersAvailable the ones the EMR has that the spec does not sync;
// AttachmentsImportDisabled warns when attachments are not imported automatically. No I/O: the
// providers were listed by the auth step's last check.
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { newProvidersCondition, providersCondition } from './providers.ts';
import { type EmrRun, found, type Step, type StepOutcome } from './step.ts';

/** Pure: AttachmentsImportDisabled, True when automatic import is off (worse for a site receiving eReferrals). */
export function attachmentsCondition(settings: EmrIntegrationSpec['settings']): ConditionInput {
  if (settings?.autoImportAttachments === false) {
    const eReferral = settings.eReferral ? '; this site receives eReferrals, whose attachments will be missed' : '';
    return {
      type: 'AttachmentsImportDisabled',
      status: 'True',
      reason: 'AutoImportOff',
      message:
        `Attachments are not imported into the EMR automatically${eReferral} (eReferral users must keep it on): ` +
        'attachments, eForm PDFs and referral PDFs are held in the relay dead-letter subject (reason AttachmentsImportDisabled); ' +
        'turn autoImportAttachments on, then replay them with the cloudconnect.dev/replayRequestedAt annotation',
    };
  }
  return { type: 'AttachmentsImportDisabled', status: 'False', reason: 'AutoImportOn', message: 'Attachments are imported automatically' };
}

export const providersStep: Step = {
  name: 'providers',
  async run(run: EmrRun): Promise<StepOutcome> {
    const auth = found(run.auth, 'authentication decision');
    run.conditions.push(attachmentsCondition(run.spec.settings));
    const visible = providersCondition(auth.authenticated, run.providers, run.spec.emr.type === 'None' ? undefined : run.spec.emr.type);
    if (visible) {
      run.conditions.push(visible);
      run.readyParts.push(visible);
    }
    const available = newProvidersCondition(auth.authenticated, run.providers);
    if (available) run.conditions.push(available);
    return 'continue';
  },
};
