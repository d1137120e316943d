// Shapes of the REST API v1 (see DESIGN.md). Written by hand until the backend's
// OpenAPI schema (/api/schema/) is stable enough to generate them from.

export type Role = 'clinician' | 'admin';

export type User = {
  id: number;
  username: string;
  role: Role;
};

export type TokenPair = {
  access: string;
  refresh: string;
};

export type ApiErrorBody = {
  message: string;
  extra?: Record<string, unknown>;
};

export type HealthCheck = {
  ok: boolean;
  detail?: string;
};

export type ModelCheck = HealthCheck & {
  name: string;
  version: string;
  trained: boolean;
  weights_sha256: string | null;
};

export type Health = {
  status: 'ok' | 'degraded';
  checks: {
    database: HealthCheck;
    cache: HealthCheck;
    broker: HealthCheck;
    model: ModelCheck;
  };
};

export type StudyStatus = 'queued' | 'running' | 'done' | 'failed';

export const STUDY_STATUSES: readonly StudyStatus[] = ['queued', 'running', 'done', 'failed'];

export type StudySummary = {
  id: number | string;
  status: StudyStatus;
  created_at: string;
  finished_at: string | null;
  original_filename: string;
  cached: boolean;
  message: string | null;
};

export type ModelCard = {
  name: string;
  version: string;
  weights_sha256: string | null;
  trained: boolean;
};

export type Finding = {
  label: string;
  probability: number;
  threshold: number;
  positive: boolean;
  heatmap: string;
};

export type Study = StudySummary & {
  image: string;
  width: number | null;
  height: number | null;
  model: ModelCard | null;
  findings: Finding[];
};

export type Paginated<T> = {
  count: number;
  next: string | null;
  previous: string | null;
  results: T[];
};

export type StudyCreated = {
  id: number | string;
  status: StudyStatus;
  cached: boolean;
};
