// Names for the REST API's shapes. Every type here comes from api.generated.ts, which is generated
// from the backend's OpenAPI schema (`make api-types`); nothing is written by hand except the
// error shape and the pagination wrapper, which the schema states per endpoint.
import type { components, operations } from './api.generated';

type Schemas = components['schemas'];

export type Role = Schemas['RoleEnum'];
export type Me = Schemas['User'];
export type User = Schemas['User'];
export type UserCreate = Schemas['UserCreateRequest'];
export type UserUpdate = Schemas['PatchedUserUpdateRequest'];
export type PasswordReset = Schemas['PasswordResetRequest'];

export type TokenPair = Schemas['TokenObtainPair'];
export type HospitalSignInConfig = Schemas['OidcConfig'];
export type HospitalSignInAnswer = Schemas['OidcCallbackRequest'];
export type HospitalSignedIn = Schemas['OidcSignedIn'];

export type Health = Schemas['Health'];

export type StudyStatus = Schemas['StudyStatusEnum'];
export type StudySummary = Schemas['StudySummary'];
export type Study = Schemas['StudyDetail'];
/** The patient's prior study, as a study names it (its findings are read from its own route). */
export type PriorStudy = Schemas['PriorStudy'];
export type StudyCreated = Schemas['StudyCreated'];
export type StudyEvent = Schemas['StudyEvent'];
export type Finding = Schemas['Finding'];
export type StudyImage = Schemas['StudyImage'];
export type ImageFinding = Schemas['ImageFinding'];
export type Aggregation = Schemas['Aggregation'];
export type ModelSummary = Schemas['ModelSummary'];
export type StudiesQuery = NonNullable<operations['studies_list']['parameters']['query']>;
export type StudyOrdering = NonNullable<StudiesQuery['ordering']>;

export type Verdict = Schemas['VerdictEnum'];
export type FindingFeedback = Schemas['FindingFeedback'];
export type FindingFeedbackInput = Schemas['FindingFeedbackInputRequest'];

export type ModelCard = Schemas['ModelCard'];
export type ModelValidation = Schemas['ModelValidation'];
export type FindingValidation = Schemas['FindingValidation'];
export type ModelAgreement = Schemas['ModelAgreement'];
export type FindingAgreement = Schemas['FindingAgreement'];

// The analysers beside the classifier, each with its own card, weights and trained flag.
export type AnalyserCard = Schemas['AnalyserCard'];
export type ScreenerSummary = Schemas['ScreenerSummary'];
export type Screener = Schemas['Screener'];
export type Segmentation = Schemas['Segmentation'];
export type CardiothoracicRatio = Schemas['CardiothoracicRatio'];
export type SegmentationOutlines = Schemas['SegmentationOutlines'];
export type StructureOutline = Schemas['StructureOutline'];
/** A CT series' result: each slice's probability and the patient's, by the card's rule. */
export type CTResult = Schemas['CT'];
export type StudyKind = Schemas['StudyKindEnum'];
/** An analyser's run: queued, running, done or failed, on its own beside the study's status. */
export type AnalyserStatus = Screener['status'];

// The model's life at the site (admins): installed weights, site threshold profiles, what analyses
// now, what runs in shadow, and how each shadow candidate compared.
export type ModelVersion = Schemas['ModelVersion'];
export type ServerWeights = Schemas['ServerWeights'];
export type ThresholdProfile = Schemas['ThresholdProfile'];
export type ThresholdProfileSummary = Schemas['ThresholdProfileSummary'];
export type Deployment = Schemas['Deployment'];
export type DeploymentsOverview = Schemas['DeploymentsOverview'];
export type ShadowComparison = Schemas['ShadowComparison'];
export type ComparisonFigures = Schemas['ComparisonFigures'];

export type AuditAction = Schemas['AuditActionEnum'];
export type AuditEvent = Schemas['AuditEvent'];
export type AuditQuery = NonNullable<operations['audit_list']['parameters']['query']>;

export const STUDY_STATUSES: readonly StudyStatus[] = ['queued', 'running', 'done', 'failed'];

/** Every API error reads {"message", "extra"} (see DESIGN.md). */
export type ApiErrorBody = {
  message: string;
  extra?: Record<string, unknown>;
};

/** DRF's page-number pagination, as every list endpoint answers. */
export type Paginated<T> = {
  count: number;
  next?: string | null;
  previous?: string | null;
  results: T[];
};

export type StudyPacs = Schemas['StudyPacs'];
export type DicomNodes = Schemas['DicomNodes'];

export type Explanation = Schemas['Explanation'];
export type ExplanationMethod = Schemas['MethodEnum'];
export type ExplanationStatus = Schemas['ExplanationStatusEnum'];

export type AcceptanceSource = Schemas['AcceptanceSourceEnum'];
export type AcceptanceRun = Schemas['AcceptanceRun'];
export type AcceptanceRunSummary = Schemas['AcceptanceRunSummary'];
export type Drift = Schemas['Drift'];
export type DriftSnapshot = Schemas['DriftSnapshot'];
export type ClinicianReport = Schemas['ClinicianReport'];
export type ReportSentence = Schemas['ReportSentence'];
export type ReportSource = Schemas['ReportSource'];
export type ReportSave = Schemas['ReportSaveRequest'];
