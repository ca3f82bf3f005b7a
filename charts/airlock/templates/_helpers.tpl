{{/* Chart name. */}}
{{- define "airlock.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Prefix of every object name: "airlock" for `helm install airlock`. */}}
{{- define "airlock.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "airlock.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{ include "airlock.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: airlock
{{- end -}}

{{- define "airlock.selectorLabels" -}}
app.kubernetes.io/name: {{ include "airlock.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: manager
{{- end -}}

{{- define "airlock.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-manager" (include "airlock.fullname" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Names the manager's flags, RBAC and cert-manager objects agree on. */}}
{{- define "airlock.webhookService" -}}{{ include "airlock.fullname" . }}-webhook-service{{- end -}}
{{- define "airlock.webhookSecret" -}}{{ include "airlock.fullname" . }}-webhook-tls{{- end -}}
{{- define "airlock.mutatingWebhookConfiguration" -}}{{ include "airlock.fullname" . }}-mutating-webhook-configuration{{- end -}}
{{- define "airlock.validatingWebhookConfiguration" -}}{{ include "airlock.fullname" . }}-validating-webhook-configuration{{- end -}}
{{- define "airlock.certificate" -}}{{ include "airlock.fullname" . }}-webhook-cert{{- end -}}

{{- define "airlock.image" -}}
{{- printf "%s:%s" .image.repository (default .chart.AppVersion .image.tag) -}}
{{- end -}}

{{/* Namespaces the injector never sees. */}}
{{- define "airlock.excludedNamespaces" -}}
{{- $ns := concat (list .Release.Namespace) .Values.webhook.excludeNamespaces | uniq -}}
{{- toJson $ns -}}
{{- end -}}
