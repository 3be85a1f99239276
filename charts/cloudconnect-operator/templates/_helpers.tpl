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
