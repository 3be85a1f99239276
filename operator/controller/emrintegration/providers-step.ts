// Step 4, providers: what the sync settings meet in the EMR. ProvidersVisible names the configured
// providers (spec.settings.syncProviderIds) the API user cannot see, once authenticated;
// AttachmentsImportDisabled warns when attachments are not imported automatically. No I/O: the
// providers were listed by the auth step's last check.
import type { EmrIntegrationSpec } from '../../api/v1alpha1/index.ts';
import type { ConditionInput } from '../../runtime/conditions.ts';
import { type EmrRun, found, type Providers, type Step, type StepOutcome } from './step.ts';

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

/** Pure: ProvidersVisible, only while authenticated and once the providers were listed. */
export function providersCondition(authenticated: ConditionInput, providers: Providers | undefined): ConditionInput | undefined {
  if (authenticated.status !== 'True' || !providers) return undefined;
  if (providers.missing.length > 0) {
    return {
      type: 'ProvidersVisible',
      status: 'False',
      reason: 'ProvidersNotVisible',
      message: `The EMR API user cannot see configured provider(s) ${providers.missing.join(', ')}: their appointments will be missing (give the API user permission for them)`,
    };
  }
  return { type: 'ProvidersVisible', status: 'True', reason: 'AllVisible', message: `${providers.discovered} provider(s) visible` };
}

export const providersStep: Step = {
  name: 'providers',
  async run(run: EmrRun): Promise<StepOutcome> {
    const auth = found(run.auth, 'authentication decision');
    run.conditions.push(attachmentsCondition(run.spec.settings));
    const visible = providersCondition(auth.authenticated, run.providers);
    if (visible) {
      run.conditions.push(visible);
      run.readyParts.push(visible);
    }
    return 'continue';
  },
};
