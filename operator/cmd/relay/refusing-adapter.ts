// The relay's EMR adapter when the real one cannot be built from the credentials Secret (a key
// missing, e.g. an OSCAR Pro integration whose access token was not authorized yet): every call
// fails with that same EmrError. The relay still starts, so Ocean's messages are queued (nothing is
// lost while the Secret is being fixed), deliveries fail and retry with the reason in the relay's
// status, and the credentials edit rolls the Deployment to a pod with a working adapter. Without it
// the pod would crash-loop and the webhook would refuse every message. It offers the optional calls
// the type's adapter has (index.ts emrCapabilities), refusing too: a demographic update waiting for
// the Secret is retried with the credentials' reason, not dead-lettered as Unsupported.
import type { EmrAdapter } from '../../internal/emr/adapter.ts';
import { emrCapabilities } from '../../internal/emr/index.ts';
import type { EmrError } from '../../internal/httpx/remote-error.ts';

export function refusingAdapter(type: EmrAdapter['type'], error: EmrError): EmrAdapter {
  const refuse = async (): Promise<never> => {
    throw error;
  };
  const can = emrCapabilities(type);
  return {
    type,
    authenticate: refuse,
    listProviders: refuse,
    listOffices: refuse,
    listAppointments: refuse,
    getPatient: refuse,
    postDocument: refuse,
    postNote: refuse,
    markArrived: refuse,
    createAppointment: refuse,
    ...(can.demographicUpdates ? { updateDemographics: refuse } : {}),
    ...(can.customFields ? { updateCustomFields: refuse } : {}),
  };
}
