{{/* Resource name prefix: the release name, plus the chart name unless the release already contains it. */}}
{{- define "cloudconnect.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "cloudconnect.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every resource carries. */}}
{{- define "cloudconnect.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cloudconnect.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cloudconnect
{{- end -}}

{{/* Labels that select the operator pods (immutable in the Deployment selector). */}}
{{- define "cloudconnect.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cloudconnect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: operator
{{- end -}}

{{- define "cloudconnect.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cloudconnect.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* An image reference from {repository, tag, digest}, each falling back to the operator image. */}}
{{- define "cloudconnect.image" -}}
{{- $root := index . 0 -}}
{{- $img := index . 1 -}}
{{- $repo := default $root.Values.image.repository $img.repository -}}
{{- $digest := $img.digest -}}
{{- $tag := default (default $root.Chart.AppVersion $root.Values.image.tag) $img.tag -}}
{{- if and (not $img.repository) (not $img.tag) (not $img.digest) -}}{{- $digest = $root.Values.image.digest -}}{{- end -}}
{{- if $digest -}}
{{- printf "%s@%s" $repo $digest -}}
{{- else -}}
{{- printf "%s:%s" $repo $tag -}}
{{- end -}}
{{- end -}}

{{/* The chart's own NATS server (nats.deploy): its name leaves room for "-headless" within 63 characters. */}}
{{- define "cloudconnect.natsName" -}}
{{- printf "%s-nats" (include "cloudconnect.fullname" . | trunc 45 | trimSuffix "-") -}}
{{- end -}}

{{/* The NATS URL the operator uses: relay.natsUrl, else the chart's own NATS (tls:// with nats.tls), else empty (no relay). */}}
{{- define "cloudconnect.natsUrl" -}}
{{- if .Values.relay.natsUrl -}}
{{- .Values.relay.natsUrl -}}
{{- else if .Values.nats.deploy -}}
{{- printf "%s://%s.%s.svc:4222" (ternary "tls" "nats" (ne .Values.nats.tls.secretName "")) (include "cloudconnect.natsName" .) .Release.Namespace -}}
{{- end -}}
{{- end -}}

{{/* The Secret made from nats-setup's files (account, signing-key, auth.conf). */}}
{{- define "cloudconnect.natsAuthSecret" -}}
{{- default (printf "%s-nats-auth" (include "cloudconnect.fullname" . | trunc 53 | trimSuffix "-")) .Values.relay.natsAuth.secretName -}}
{{- end -}}

{{- define "cloudconnect.natsSelectorLabels" -}}
app.kubernetes.io/name: {{ include "cloudconnect.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: nats
{{- end -}}

{{- define "cloudconnect.natsLabels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "cloudconnect.natsSelectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: cloudconnect
{{- end -}}

{{/*
The operator's rights: exactly the API calls it makes, found by reading operator/ (charts/README.md
lists each caller). One source for both install modes (templates/clusterrole.yaml): the ClusterRole
of cluster mode and the Role in each of watchNamespaces, so the two never drift. `make up` runs the
operator with these rights only, so a missing verb fails locally.
*/}}
{{- define "cloudconnect.operatorRules" -}}
# Informers list+watch the three kinds; finalizers and the requestedAt annotation are merge patches;
# EmrIntegrations create their default SyncSchedules. The support-site Role the operator writes
# (operator/controller/oceansite/support-rbac.ts) grants get/list/watch on these kinds and
# patch/update for the requestedAt annotation, and RBAC lets an account grant only what it holds
# (the alternative, `escalate`, would let it grant anything).
- apiGroups: ["cloudconnect.dev"]
  resources: ["oceansites", "emrintegrations", "syncschedules"]
  verbs: ["get", "list", "watch", "create", "update", "patch", "delete"]
# Status is written with server-side apply (patch); `get` is granted to support sites.
- apiGroups: ["cloudconnect.dev"]
  resources: ["oceansites/status", "emrintegrations/status", "syncschedules/status"]
  verbs: ["get", "patch"]
# Default SyncSchedules and sync Jobs carry blockOwnerDeletion owner references, which the
# OwnerReferencesPermissionEnforcement admission plugin allows only with update on finalizers.
- apiGroups: ["cloudconnect.dev"]
  resources: ["emrintegrations/finalizers", "syncschedules/finalizers"]
  verbs: ["update"]
# Credentials Secrets: informer on the labelled ones, read, label (patch); one-time SEK import
# Secrets are read, then emptied (patch: data removed, owned by the site). No delete: the operator
# never deletes a Secret.
- apiGroups: [""]
  resources: ["secrets"]
  verbs: ["get", "list", "watch", "patch"]
# Events on the custom resources (core/v1 Events, like client-go's recorder); get/list/watch only
# because the support-site Role grants them (the operator never reads Events).
- apiGroups: [""]
  resources: ["events"]
  verbs: ["get", "list", "watch", "create"]
# Per-site ServiceAccount of the sync and relay pods (named after the site): created, read when
# the name is taken (a ServiceAccount the operator did not make stalls the site), deleted when the
# site goes; list only because the support-site Role grants it (the support bundle lists them).
- apiGroups: [""]
  resources: ["serviceaccounts"]
  verbs: ["get", "list", "create", "delete"]
# Sync pods: read for a run's result; annotated with the new SEK version on rotation.
- apiGroups: [""]
  resources: ["pods"]
  verbs: ["list", "patch"]
# Sync runs: informer, create, delete (history limits, concurrencyPolicy Replace).
- apiGroups: ["batch"]
  resources: ["jobs"]
  verbs: ["list", "watch", "create", "delete"]
# Support-site access: a Role per site (created, replaced, deleted) and a RoleBinding per support site.
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["roles"]
  verbs: ["create", "update", "delete"]
- apiGroups: ["rbac.authorization.k8s.io"]
  resources: ["rolebindings"]
  verbs: ["list", "create", "delete"]
# The relay (operator/controller/emrintegration/relay-step.ts): one Deployment and one Service per EmrIntegration,
# watched by informers and written by server-side apply, a patch that needs create for a new object.
# They are garbage-collected through their owner reference, never deleted by the operator.
- apiGroups: ["apps"]
  resources: ["deployments"]
  verbs: ["list", "watch", "create", "patch"]
- apiGroups: [""]
  resources: ["services"]
  verbs: ["list", "watch", "create", "patch"]
{{- end -}}
