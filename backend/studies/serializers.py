from typing import Any

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ml.classifier.card import DEFAULT_STUDY_AGGREGATION
from ml.evaluation.grouping import AGGREGATION_RULES
from ml.screener.analyser import SCREENER, ScreenerResult
from ml.segmentation.analyser import SEGMENTATION, SegmentationResult
from ml.segmentation.cardiothoracic import CardiothoracicRatio
from studies.card_serializers import (
    AnalyserCardSerializer,
    ModelValidationSerializer,
    ThresholdProfileSummarySerializer,
)
from studies.ct_serializers import CTSerializer, CTSummarySerializer, ct_of, ct_summary_of
from studies.inference import active_model_card
from studies.models import AnalyserRun, Finding, ImageFinding, ImageKind, Study, StudyImage, StudyStatus
from studies.patients import PATIENT_REFERENCE_MAX_LENGTH, PATIENT_REFERENCE_PATTERN
from studies.selectors import ANY_POSITIVE, analyser_run_result
from studies.triage import TriageReason, study_lifted_since, triage_reason


class StudyCreateSerializer(serializers.Serializer):
    image = serializers.FileField(
        required=False, help_text="A chest radiograph: PNG or JPEG (8- or 16-bit) or DICOM."
    )
    images = serializers.ListField(
        child=serializers.FileField(),
        required=False,
        help_text=(
            "Instead of image: several radiographs of one patient and visit, made one study (the field "
            "repeated, at most CXR_MAX_IMAGES_PER_STUDY). DICOM files must share one Study Instance "
            "UID; a DICOM lateral view is kept beside a frontal image but not analysed."
        ),
    )

    patient_reference = serializers.RegexField(
        PATIENT_REFERENCE_PATTERN,
        max_length=PATIENT_REFERENCE_MAX_LENGTH,
        required=False,
        help_text=(
            "Optional: the patient's reference (a hospital number), where the files do not name the "
            "patient (PNG, JPEG) or to confirm that files naming none are the DICOM files' patient. "
            "Letters, digits, space and . _ / : # -, starting with a letter or digit, at most 64 "
            "characters. Only its keyed hash is kept, to find the patient's prior study."
        ),
        error_messages={
            "invalid": "Use letters, digits, spaces and . _ / : # - only, starting with a letter or digit."
        },
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("image" in attrs) == bool(attrs.get("images")):
            raise serializers.ValidationError({"image": "Send one file as image, or several as images."})
        return attrs

    @property
    def uploads(self) -> list[Any]:
        data = self.validated_data
        return [data["image"]] if "image" in data else list(data["images"])


class StudyCreatedSerializer(serializers.ModelSerializer):
    cached = serializers.BooleanField(source="from_cache", help_text="Answered from the result cache.")

    class Meta:
        model = Study
        fields = ["id", "status", "cached"]
        read_only_fields = fields


class StudyEventSerializer(serializers.ModelSerializer):
    """A change of a study's status, as the event stream sends it."""

    class Meta:
        model = Study
        fields = ["id", "status", "finished_at", "message"]
        read_only_fields = fields


@extend_schema_field({"type": "object", "additionalProperties": False, "maxProperties": 0})
class EmptyObjectField(serializers.DictField):
    pass


class ReadyEventSerializer(serializers.Serializer):
    """`event: ready`, first on the stream once it is subscribed; its data is an empty object."""

    event = serializers.ChoiceField(choices=["ready"])
    data = EmptyObjectField()


class StudyChangeEventSerializer(serializers.Serializer):
    """`event: study`, each time one of the user's studies changes status."""

    event = serializers.ChoiceField(choices=["study"])
    data = StudyEventSerializer()


class TopFindingSerializer(serializers.Serializer):
    label = serializers.CharField()
    probability = serializers.FloatField()
    calibrated_score = serializers.FloatField(
        help_text="The probability rescaled so that the finding's threshold maps to 0.5."
    )


class ScreenerSummarySerializer(serializers.Serializer):
    """The normal/abnormal screener's answer: it ranks and flags, and never calls a study normal."""

    status = serializers.ChoiceField(choices=StudyStatus.choices)
    probability = serializers.FloatField(allow_null=True, help_text="Probability of any abnormality.")
    threshold = serializers.FloatField(allow_null=True)
    likely_abnormal = serializers.BooleanField(allow_null=True)
    trained = serializers.BooleanField(allow_null=True)


class ScreenerSerializer(ScreenerSummarySerializer):
    message = serializers.CharField()
    analyser = AnalyserCardSerializer(allow_null=True)


class CardiothoracicRatioSerializer(serializers.Serializer):
    """The heart's widest extent over the thorax's widest inner extent, with both lines drawn."""

    ratio = serializers.FloatField()
    heart_line = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="Two [x, y] points in radiograph pixels.",
    )
    thorax_line = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2),
        help_text="Two [x, y] points in radiograph pixels.",
    )
    normal_upper_limit = serializers.FloatField(help_text="0.50 on a PA film.")
    above_range = serializers.BooleanField()
    view = serializers.CharField(allow_null=True, help_text="PA, AP, or null when the file does not say.")
    caveat = serializers.CharField(allow_null=True, help_text="Why the ratio may mislead (an AP film).")


class SegmentationSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StudyStatus.choices)
    message = serializers.CharField()
    analyser = AnalyserCardSerializer(allow_null=True)
    structures = serializers.ListField(child=serializers.CharField())
    outlines = serializers.CharField(allow_null=True, help_text="Where the structures' outlines are.")
    cardiothoracic_ratio = CardiothoracicRatioSerializer(allow_null=True)
    cardiothoracic_ratio_note = serializers.CharField(
        allow_null=True, help_text="Why no ratio is given (an untrained model, a structure not found)."
    )


def analyser_runs_by_kind(study: Study) -> dict[str, AnalyserRun]:
    return {run.kind: run for run in study.analyser_runs.all()}


def analyser_card(run: AnalyserRun) -> dict[str, Any] | None:
    return AnalyserCardSerializer(run.card).data if run.card else None


def screener_of(study: Study) -> dict[str, Any] | None:
    run = analyser_runs_by_kind(study).get(SCREENER)
    if run is None:
        return None
    # Read as ml's ScreenerResult, so a renamed field breaks here rather than answering null.
    result = analyser_run_result(run)
    screener = result if isinstance(result, ScreenerResult) else None
    return {
        "status": run.status,
        "message": run.message,
        "analyser": analyser_card(run),
        "probability": screener.probability if screener else None,
        "threshold": screener.threshold if screener else None,
        "likely_abnormal": screener.likely_abnormal if screener else None,
        "trained": run.card.get("trained") if run.card else None,
    }


def cardiothoracic_ratio_of(ratio: CardiothoracicRatio | None) -> dict[str, Any] | None:
    """The API's cardiothoracic ratio: ml's measurement, with both lines as [x, y] ends."""
    if ratio is None:
        return None
    return {
        "ratio": ratio.ratio,
        "heart_line": ratio.heart_line.to_list(),
        "thorax_line": ratio.thorax_line.to_list(),
        "normal_upper_limit": ratio.normal_upper_limit,
        "above_range": ratio.above_range,
        "view": ratio.view,
        "caveat": ratio.caveat,
    }


class StudySummarySerializer(serializers.ModelSerializer):
    # The study's image fields are its key image's (Study.key_image).
    kind = serializers.ChoiceField(source="key_image.kind", choices=ImageKind.choices)
    original_filename = serializers.CharField(source="key_image.original_filename")
    cached = serializers.BooleanField(source="from_cache")
    top_finding = serializers.SerializerMethodField(
        help_text="The most suspicious finding: the highest calibrated score."
    )
    positive_labels = serializers.SerializerMethodField(
        help_text="Findings above their threshold, highest probability first."
    )
    image_count = serializers.SerializerMethodField(help_text="How many images the study holds.")
    screener = serializers.SerializerMethodField(help_text="The normal/abnormal screener, once it has run.")
    ct_result = serializers.SerializerMethodField(
        help_text="A CT study's patient-level result (null for a radiograph), shown where a radiograph's "
        "findings are."
    )
    triage_reason = serializers.SerializerMethodField(
        help_text=(
            "Why the study stands where it does in the triage orders: waited_past_limit (unread past "
            "CXR_TRIAGE_MAX_WAIT_MINUTES, so lifted above every score, longest wait first), score, or "
            "not_scored (no score yet: last)."
        )
    )
    triage_lifted_since = serializers.SerializerMethodField(
        help_text="When the study, still unread, passed the wait limit; null while it has not."
    )
    # What the key image's DICOM file said of the patient and view (null for PNG and JPEG).
    patient_age_years = serializers.SerializerMethodField()
    patient_sex = serializers.SerializerMethodField(help_text="M, F or O, as DICOM's Patient's Sex.")
    view_position = serializers.SerializerMethodField(help_text="PA, AP, LL... as DICOM's View Position.")
    uploaded_by = serializers.CharField(
        source="owner.username",
        help_text="Who uploaded the study (for a study a PACS sent, the account its images arrive as).",
    )
    threshold_profile = ThresholdProfileSummarySerializer(
        allow_null=True,
        help_text="The site threshold profile its findings (and calibrated scores) were judged under, as "
        "it was then; null: the model card's own thresholds.",
    )

    class Meta:
        model = Study
        fields = [
            "id",
            "kind",
            "status",
            "created_at",
            "finished_at",
            "original_filename",
            "cached",
            "message",
            "top_finding",
            "positive_labels",
            "image_count",
            "screener",
            "ct_result",
            "read_at",
            "triage_reason",
            "triage_lifted_since",
            "patient_age_years",
            "patient_sex",
            "view_position",
            "uploaded_by",
            "threshold_profile",
        ]
        # Output only: read-only fields are required in the schema's response components.
        read_only_fields = fields

    # The worklist's queryset annotates these (studies.selectors.study_list); elsewhere they are
    # worked out from the study's findings.
    @extend_schema_field(TopFindingSerializer(allow_null=True))
    def get_top_finding(self, study: Study) -> dict[str, Any] | None:
        if hasattr(study, "top_score"):
            if study.top_score is None:
                return None
            return {
                "label": study.top_label,
                "probability": study.top_probability,
                "calibrated_score": study.top_score,
            }
        top = max(study.findings.all(), key=lambda finding: finding.calibrated_score, default=None)
        if top is None:
            return None
        return {"label": top.label, "probability": top.probability, "calibrated_score": top.calibrated_score}

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_patient_age_years(self, study: Study) -> int | None:
        return study.key_image.image_metadata.get("patient_age_years")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_patient_sex(self, study: Study) -> str | None:
        return study.key_image.image_metadata.get("patient_sex")

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_view_position(self, study: Study) -> str | None:
        return study.key_image.image_metadata.get("view_position")

    @extend_schema_field(serializers.ChoiceField(choices=TriageReason.choices))
    def get_triage_reason(self, study: Study) -> str:
        top = self.get_top_finding(study)
        return triage_reason(
            lifted=self.get_triage_lifted_since(study) is not None,
            score=top["calibrated_score"] if top else None,
        )

    @extend_schema_field(serializers.DateTimeField(allow_null=True))
    def get_triage_lifted_since(self, study: Study) -> str | None:
        lifted = (
            study.triage_lifted_since if hasattr(study, "triage_lifted_since") else study_lifted_since(study)
        )
        return serializers.DateTimeField().to_representation(lifted) if lifted else None

    def get_image_count(self, study: Study) -> int:
        if hasattr(study, "image_count"):
            return study.image_count
        return len(study.images.all())

    @extend_schema_field(ScreenerSummarySerializer(allow_null=True))
    def get_screener(self, study: Study) -> dict[str, Any] | None:
        screener = screener_of(study)
        return ScreenerSummarySerializer(screener).data if screener is not None else None

    @extend_schema_field(CTSummarySerializer(allow_null=True))
    def get_ct_result(self, study: Study) -> dict[str, Any] | None:
        return ct_summary_of(study)

    def get_positive_labels(self, study: Study) -> list[str]:
        if hasattr(study, "positive_findings"):
            return [finding.label for finding in study.positive_findings]
        positives = sorted(
            (finding for finding in study.findings.all() if finding.positive), key=lambda f: -f.probability
        )
        return [finding.label for finding in positives]


class FindingSerializer(serializers.ModelSerializer):
    heatmap = serializers.SerializerMethodField()

    class Meta:
        model = Finding
        fields = ["label", "probability", "threshold", "positive", "calibrated_score", "heatmap"]

    def get_heatmap(self, finding: Finding) -> str:
        return reverse("study-heatmap", kwargs={"study_id": finding.study_id, "label": finding.label})


class ImageFindingSerializer(serializers.ModelSerializer):
    heatmap = serializers.SerializerMethodField()

    class Meta:
        model = ImageFinding
        fields = ["label", "probability", "threshold", "positive", "calibrated_score", "heatmap"]
        read_only_fields = fields

    def get_heatmap(self, finding: ImageFinding) -> str:
        image = finding.image
        return reverse(
            "study-image-heatmap",
            kwargs={"study_id": image.study_id, "position": image.position, "label": finding.label},
        )


class AggregationSerializer(serializers.Serializer):
    """How the study's findings were made from its images' findings."""

    rule = serializers.ChoiceField(
        choices=AGGREGATION_RULES, help_text="The model card's rule: the mean or the max over the images."
    )
    images = serializers.IntegerField(help_text="How many (frontal) images were analysed and aggregated.")


class ModelSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    version = serializers.CharField()
    weights_sha256 = serializers.CharField(allow_null=True)
    trained = serializers.BooleanField()
    training_data = serializers.CharField(allow_null=True, default=None)
    validation = ModelValidationSerializer(allow_null=True, default=None)


class ImageMetadataSerializer(serializers.Serializer):
    """What the file said about the image; PNG and JPEG files say nothing, so all may be null."""

    modality = serializers.CharField(allow_null=True)
    body_part = serializers.CharField(allow_null=True)
    view_position = serializers.CharField(allow_null=True)
    patient_age_years = serializers.IntegerField(allow_null=True)
    patient_sex = serializers.CharField(allow_null=True)
    pixel_spacing_mm = serializers.ListField(child=serializers.FloatField(), allow_null=True)


class ScreeningSerializer(serializers.Serializer):
    """How the input screening saw the image; `corrected` names a correction it made, if any."""

    orientation = serializers.CharField()
    chest_score = serializers.FloatField()
    histogram_peak_share = serializers.FloatField()
    corrected = serializers.CharField(allow_null=True)


EMPTY_METADATA = dict.fromkeys(ImageMetadataSerializer().fields)


def metadata_of(image_metadata: dict[str, Any]) -> dict[str, Any]:
    return ImageMetadataSerializer({**EMPTY_METADATA, **image_metadata}).data


class StudyImageSerializer(serializers.ModelSerializer):
    """One image of a study: its view, whether it was analysed (and why not), and its own findings."""

    image = serializers.SerializerMethodField(help_text="The image as an 8-bit greyscale PNG.")
    metadata = serializers.SerializerMethodField()
    screening = ScreeningSerializer(allow_null=True)
    findings = ImageFindingSerializer(many=True)

    class Meta:
        model = StudyImage
        fields = [
            "position",
            "id",
            "kind",
            "view",
            "analysed",
            "not_analysed_reason",
            "original_filename",
            "width",
            "height",
            "image",
            "metadata",
            "screening",
            "findings",
        ]
        read_only_fields = fields

    def get_image(self, image: StudyImage) -> str:
        return reverse(
            "study-image-position", kwargs={"study_id": image.study_id, "position": image.position}
        )

    @extend_schema_field(ImageMetadataSerializer)
    def get_metadata(self, image: StudyImage) -> dict[str, Any]:
        return metadata_of(image.image_metadata)


class PriorStudySerializer(serializers.ModelSerializer):
    """The prior study, as the study page names it: its findings are read from its own route."""

    original_filename = serializers.CharField(source="key_image.original_filename")

    class Meta:
        model = Study
        fields = ["id", "created_at", "original_filename"]
        read_only_fields = fields


class StudyDetailSerializer(StudySummarySerializer):
    image = serializers.SerializerMethodField()
    key_image = serializers.IntegerField(
        source="key_image.position",
        help_text="The position of the study's key image (its first analysed frontal image), which "
        "image, width, height, metadata, screening and the findings' heatmaps are of.",
    )
    width = serializers.IntegerField(source="key_image.width")
    height = serializers.IntegerField(source="key_image.height")
    model = serializers.SerializerMethodField()
    metadata = serializers.SerializerMethodField()
    screening = ScreeningSerializer(source="key_image.screening", allow_null=True)
    findings = FindingSerializer(many=True, help_text="The study's findings, aggregated over its images.")
    aggregation = serializers.SerializerMethodField()
    images = StudyImageSerializer(many=True)
    segmentation = serializers.SerializerMethodField(
        help_text="Anatomy segmentation and the cardiothoracic ratio, once it has run."
    )
    ct = serializers.SerializerMethodField(help_text="A CT study's result (null for a radiograph).")
    patient_known = serializers.SerializerMethodField(
        help_text="Whether the study's patient is known (a DICOM Patient ID or a typed reference), so "
        "that its prior studies can be found."
    )
    prior = serializers.SerializerMethodField(
        help_text="The patient's most recent earlier analysed radiograph study among those the user may "
        "see (their own; all for an admin), or null."
    )

    class Meta(StudySummarySerializer.Meta):
        fields = [
            *StudySummarySerializer.Meta.fields,
            "image",
            "key_image",
            "width",
            "height",
            "metadata",
            "screening",
            "model",
            "findings",
            "aggregation",
            "images",
            "segmentation",
            "ct",
            "patient_known",
            "prior",
        ]

    def get_patient_known(self, study: Study) -> bool:
        return bool(study.patient_key)

    @extend_schema_field(PriorStudySerializer(allow_null=True))
    def get_prior(self, study: Study) -> dict[str, Any] | None:
        # The view finds it for the user asking (studies.selectors.study_prior_get).
        prior = self.context.get("prior")
        return PriorStudySerializer(prior).data if prior is not None else None

    @extend_schema_field(CTSerializer(allow_null=True))
    def get_ct(self, study: Study) -> dict[str, Any] | None:
        return ct_of(study)

    @extend_schema_field(ScreenerSerializer(allow_null=True))
    def get_screener(self, study: Study) -> dict[str, Any] | None:
        screener = screener_of(study)
        return ScreenerSerializer(screener).data if screener is not None else None

    @extend_schema_field(SegmentationSerializer(allow_null=True))
    def get_segmentation(self, study: Study) -> dict[str, Any] | None:
        run = analyser_runs_by_kind(study).get(SEGMENTATION)
        if run is None:
            return None
        result = analyser_run_result(run)
        anatomy = result if isinstance(result, SegmentationResult) else None
        ratio = anatomy.cardiothoracic_ratio if anatomy else None
        return SegmentationSerializer(
            {
                "status": run.status,
                "message": run.message,
                "analyser": analyser_card(run),
                "structures": list(anatomy.structures) if anatomy else [],
                "outlines": reverse("study-segmentation", kwargs={"study_id": study.id}) if anatomy else None,
                "cardiothoracic_ratio": cardiothoracic_ratio_of(ratio),
                "cardiothoracic_ratio_note": anatomy.cardiothoracic_ratio_note if anatomy else None,
            }
        ).data

    @extend_schema_field(ImageMetadataSerializer)
    def get_metadata(self, study: Study) -> dict[str, Any]:
        return metadata_of(study.key_image.image_metadata)

    @extend_schema_field(AggregationSerializer(allow_null=True))
    def get_aggregation(self, study: Study) -> dict[str, Any] | None:
        """The rule of the card that produced the findings; null until there are findings."""
        if not study.model_card:
            return None
        # The classifier's images: a CT series is the CT analyser's.
        analysed = sum(
            1 for image in study.images.all() if image.analysed and image.kind == ImageKind.RADIOGRAPH
        )
        rule = study.model_card.get("study_aggregation", DEFAULT_STUDY_AGGREGATION)
        return AggregationSerializer({"rule": rule, "images": analysed}).data

    def get_image(self, study: Study) -> str:
        return reverse("study-image", kwargs={"study_id": study.id})

    @extend_schema_field(ModelSummarySerializer(allow_null=True))
    def get_model(self, study: Study) -> dict[str, Any] | None:
        if not study.model_card:
            return None
        if study.key_image.kind == ImageKind.CT:
            # A CT card's validation is patient-level, not the classifier's per-finding schema; the
            # CT panel shows the CT card itself.
            return ModelSummarySerializer({**study.model_card, "validation": None}).data
        return ModelSummarySerializer(study.model_card).data


class StudyListQuerySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=StudyStatus.choices, required=False)
    positive = serializers.RegexField(
        r"^[A-Za-z0-9_]+$",
        max_length=64,
        required=False,
        help_text='Only studies with a positive finding of this label, or of any label with "any".',
    )
    created_after = serializers.DateField(required=False, help_text="Uploaded on or after this day (UTC).")
    created_before = serializers.DateField(required=False, help_text="Uploaded on or before this day (UTC).")
    ordering = serializers.ChoiceField(
        choices=[
            ("-created_at", "Newest first"),
            ("created_at", "Oldest first"),
            ("-top_score", "Most suspicious first (highest calibrated score)"),
            ("-top_probability", "Highest raw finding probability first"),
            ("-screener_probability", "Most likely abnormal first (the screener's probability)"),
        ],
        required=False,
        default="-created_at",
    )

    def validate_positive(self, value: str) -> str:
        labels = active_model_card().labels
        if value != ANY_POSITIVE and value not in labels:
            raise serializers.ValidationError(f'Unknown finding; use one of {", ".join(labels)} or "any".')
        return value

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        after, before = attrs.get("created_after"), attrs.get("created_before")
        if after and before and after > before:
            raise serializers.ValidationError({"created_after": "must not be later than created_before."})
        return attrs


class StructureOutlineSerializer(serializers.Serializer):
    name = serializers.CharField()
    outlines = serializers.ListField(
        child=serializers.ListField(
            child=serializers.ListField(child=serializers.FloatField(), min_length=2, max_length=2)
        ),
        help_text="Closed polygons of [x, y] points in radiograph pixels.",
    )


class SegmentationOutlinesSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    trained = serializers.BooleanField()
    structures = StructureOutlineSerializer(many=True)
