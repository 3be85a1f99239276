// Test fixture: the environment every site pod (sync Job or relay) is given by site-pod.ts, for the
// unit tests of the programs that read it. Not part of the image (the Dockerfile deletes test helpers).
export const SITE_POD_ENV = {
  CLOUDCONNECT_INTEGRATION_SPEC: JSON.stringify({ siteRef: { name: 'maple' }, emr: { type: 'Accuro', accuro: { tenantId: 'MAPLE' } } }),
  CLOUDCONNECT_SITE_NUMBER: '1234',
  CLOUDCONNECT_SITE_TIME_ZONE: 'America/Toronto',
  CLOUDCONNECT_CREDENTIALS_DIR: '/var/run/secrets/cloudconnect/emr',
  VAULT_ADDR: 'https://vault:8200',
  VAULT_AUTH_MOUNT: 'kubernetes',
  VAULT_ROLE: 'cloudconnect-clinic-maple',
  VAULT_SA_TOKEN_FILE: '/var/run/secrets/cloudconnect/vault/token',
  SEK_MOUNT: 'secret',
  SEK_PATH: 'cloudconnect/clinic/maple/sek',
};
