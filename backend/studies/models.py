"""A study is one or more radiographs of one patient and visit, and what the model said of them."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from common.jobs import Job, JobStatus

# Every job's states (common.jobs), under the name the studies' code has always used.
StudyStatus = JobStatus


class ImageKind(models.TextChoices):
    RADIOGRAPH = "radiograph", "Radiograph"
    # A CT series (studies.ct) is scored by the CT analyser, not the classifier: its result is an
    # AnalyserRun of kind "ct", and its width and height are one slice's.
    CT = "ct", "CT series"


class Study(Job):
    """The study's analysis is its job (common.jobs): claimed in batches (studies.analysis)."""

    # Random ids: a study's address reveals neither how many studies exist nor whose they are.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="studies")

    # The study's key image, its first frontal analysed image (studies.images.key_image_of): the
    # one the PACS objects (SR, Secondary Capture, FHIR), the PDF report and the study-level routes
    # show, and the one the analysers beside the classifier read. Every image, the key one
    # included, is a StudyImage (``images``); the study's findings aggregate its analysed images'
    # (studies.image_results). Null only between the study's insert and its images'.
    key_image = models.OneToOneField(
        "StudyImage", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    # The model card that produced the findings, as it was then, and whether the result was
    # answered from the result cache instead of a model run.
    model_card = models.JSONField(null=True, blank=True)
    from_cache = models.BooleanField(default=False)
    # The site threshold profile the findings were judged under (deployments: its identity, name,
    # version, rule and weights' hash), or null for the card's own thresholds. Kept as it was: a
    # later activation changes new results only.
    threshold_profile = models.JSONField(null=True, blank=True)
    # When someone first opened the study with its results: until then it waits on the worklist,
    # and triage lifts it once it has waited past CXR_TRIAGE_MAX_WAIT_MINUTES (studies.triage).
    read_at = models.DateTimeField(null=True, blank=True)
    # The pseudonymous key of the study's patient (studies.patients): a keyed hash of the Patient ID
    # and issuer its DICOM files arrived with, or of a reference the clinician typed; empty when
    # nothing named the patient. It links a patient's studies (the prior study), never the identifier.
    patient_key = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"]),
            models.Index(fields=["status"]),
            models.Index(fields=["patient_key", "-created_at"], name="study_patient_key_created"),
        ]
        verbose_name_plural = "studies"

    def __str__(self) -> str:
        return f"Study {self.id} ({self.status})"


class FindingValues(models.Model):
    """What the classifier says of one label: the fields a study's and an image's findings share."""

    label = models.CharField(max_length=64)
    probability = models.FloatField()
    threshold = models.FloatField()
    positive = models.BooleanField()
    # The probability rescaled so that the threshold maps to 0.5: comparable across findings,
    # which triage sorts by (ml.classifier.postprocess.calibrated_score).
    calibrated_score = models.FloatField()

    class Meta:
        abstract = True
        ordering = ["-positive", "-probability"]

    def __str__(self) -> str:
        return f"{self.label}: {self.probability:.3f}"


class Finding(FindingValues):
    """A study's finding: for a study of several images, the aggregate of its images' (ImageFinding)."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="findings")
    # A rendered PNG, as studies analysed before heatmaps were kept small stored them.
    legacy_heatmap_file = models.FileField(max_length=255, blank=True)

    class Meta(FindingValues.Meta):
        constraints = [models.UniqueConstraint(fields=["study", "label"], name="one_finding_per_label")]


class ImageView(models.TextChoices):
    FRONTAL = "frontal", "Frontal"
    LATERAL = "lateral", "Lateral"


class StudyImage(models.Model):
    """One image of a study (a radiograph, or a CT series as one image), as stored, and whether the
    analysers read it."""

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="images")
    # The order of upload (or of arrival from a PACS), from 0.
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=16, choices=ImageKind.choices, default=ImageKind.RADIOGRAPH)
    original_filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    image_sha256 = models.CharField(max_length=64, db_index=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    # The upload as stored (DICOM files de-identified), and an 8-bit greyscale PNG browsers can show
    # (a CT series: its middle slice in the lung window).
    original_file = models.FileField(max_length=255)
    display_file = models.FileField(max_length=255)
    # The network's input, prepared by the web process when it screened the upload, so that the
    # worker runs the model without decoding the image again; and the result's small heatmaps
    # (ml.classifier.explanations.heatmaps), brought to the radiograph's size only when one is shown.
    model_input_file = models.FileField(max_length=255, blank=True)
    heatmaps_file = models.FileField(max_length=255, blank=True)
    # What the file said about the image (modality, body part, view, age, sex, pixel spacing; a CT
    # series: its slices and spacing), and how the input screening saw it (orientation, score, any
    # correction it made).
    image_metadata = models.JSONField(default=dict, blank=True)
    screening = models.JSONField(null=True, blank=True)
    view = models.CharField(max_length=16, choices=ImageView.choices, default=ImageView.FRONTAL)
    # A lateral view is kept and shown, but the analysers read frontal views only.
    analysed = models.BooleanField(default=True)
    not_analysed_reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["study", "position"], name="one_image_per_position")]

    def __str__(self) -> str:
        return f"Image {self.position} of study {self.study_id}"


class ImageFinding(FindingValues):
    """What the classifier said of one image; the study's Finding rows aggregate these."""

    image = models.ForeignKey(StudyImage, on_delete=models.CASCADE, related_name="findings")

    class Meta(FindingValues.Meta):
        constraints = [models.UniqueConstraint(fields=["image", "label"], name="one_image_finding_per_label")]


class Explanation(Job):
    """One finding of a study explained by one method (ml.classifier.explanations), computed once asked.

    The small map is kept as a file (ml.classifier.explanations.explanation.Explanation.to_bytes) and drawn
    at the radiograph's size only when shown, like the study's Grad-CAM maps.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="explanations")
    label = models.CharField(max_length=64)
    method = models.CharField(max_length=32)
    map_file = models.FileField(max_length=255, blank=True)
    # Faithfulness of the map (ml.classifier.explanations.faithfulness): lower deletion and higher insertion
    # areas mean the map points at what the model really uses.
    deletion_auc = models.FloatField(null=True, blank=True)
    insertion_auc = models.FloatField(null=True, blank=True)
    parameters = models.JSONField(default=dict, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # The card of the model that computed it: name, version and whether it was trained.
    model_card = models.JSONField(null=True, blank=True)

    class Meta:
        # When it was last queued: first asked for, or asked again after a failure or a lost task.
        ordering = ["enqueued_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "label", "method"], name="one_explanation_per_method")
        ]

    def __str__(self) -> str:
        return f"{self.method} of {self.label} ({self.status})"


class AnalyserRun(Job):
    """What one analyser beside the classifier (ml.analysers: segmentation, screener) said of a study.

    Runs start when the study's findings are stored and finish on their own: a failed analyser
    never fails the study. ``card`` is the analyser's card as it was (its own ``trained`` flag),
    ``result`` its JSON answer, ``score`` the number a worklist sorts by (the screener's
    probability of an abnormality, the cardiothoracic ratio), ``result_file`` what it keeps beside
    (the segmentation's masks).
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="analyser_runs")
    kind = models.CharField(max_length=32)
    card = models.JSONField(null=True, blank=True)
    result = models.JSONField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    result_file = models.FileField(max_length=255, blank=True)

    class Meta:
        ordering = ["kind"]
        constraints = [models.UniqueConstraint(fields=["study", "kind"], name="one_run_per_analyser")]
        indexes = [models.Index(fields=["kind", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} of study {self.study_id} ({self.status})"


class ShadowResult(models.Model):
    """What a shadow candidate (deployments) said of a live study, beside the active model's findings.

    Never clinical output: no serializer of a study, no report, no export and no result-cache entry
    reads it; only the admin's comparison of the candidate with the active model does.
    """

    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="shadow_results")
    deployment = models.ForeignKey("deployments.Deployment", on_delete=models.PROTECT, related_name="+")
    model_card = models.JSONField()
    threshold_profile = models.JSONField(null=True, blank=True)
    # The study's findings by the candidate, aggregated as its card says: [{label, probability,
    # threshold, positive, calibrated_score}].
    findings = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["study", "deployment"], name="one_shadow_result_per_candidate")
        ]

    def __str__(self) -> str:
        return f"shadow result of study {self.study_id} by deployment {self.deployment_id}"


class UploadAnswer(models.Model):
    """The first answer to an upload sent with an Idempotency-Key header, answered again to its
    retries (studies.idempotency): one row per user and key, kept CXR_IDEMPOTENCY_KEY_HOURS."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=128)
    # A hash of what was sent (route and files): a retry must send the same.
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    # The answer's JSON as text: PostgreSQL's jsonb would not keep the order of its keys.
    body = models.TextField()
    content_type = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["owner", "key"], name="one_answer_per_owner_and_key")]

    def __str__(self) -> str:
        return f"answer {self.status_code} to key {self.key!r} of user {self.owner_id}"
