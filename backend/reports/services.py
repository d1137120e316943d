"""A study's PDF report, made on the server: radiograph, heatmaps, findings, model card, who and when.

The clinician's report (its draft, edits, signature and amendments) is written by reports.signing.

Built with reportlab from the files the study already has (the display PNG and the stored heatmaps),
so it needs no model and no TensorFlow, and it says everything the web app says about an untrained
model and about decision support.
"""

import datetime
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageDraw
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.lib.utils import simpleSplit
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus import (
    Image as PdfImage,
)

from accounts.models import User
from common.errors import DomainError
from deployments.selectors import profile_label
from ml.classifier.card import DEFAULT_STUDY_AGGREGATION
from ml.images.rendering import HEATMAP_LUT
from ml.screener.analyser import SCREENER, ScreenerResult
from ml.segmentation.analyser import SEGMENTATION, SegmentationResult
from ml.segmentation.cardiothoracic import CardiothoracicRatio
from reports.clinician_pdf import clinician_section
from reports.formatting import format_time, percent_pair
from studies import storage
from studies.heatmaps import image_heatmap_png
from studies.models import AnalyserRun, Finding, Study, StudyStatus
from studies.segmentation import segmentation_outlines
from studies.selectors import analyser_run_result

UNTRAINED_TEXT = "Untrained model — not for clinical use"
NOTICE_TEXT = "Decision support, not a diagnosis."
FOOTER_FONT, FOOTER_SIZE = "Helvetica", 7
# A card's study aggregation rule in words (ml.classifier.aggregation).
RULE_WORDS = {"mean": "mean", "max": "highest"}
# Images are embedded at this many pixels on their long side: sharp on paper, small in a download.
EMBEDDED_IMAGE_PIXELS = 768
# The study's image metadata (from DICOM files; PNG and JPEG carry none), in report order.
METADATA_NAMES = {
    "modality": "Modality",
    "body_part": "Body part",
    "view_position": "View position",
    "patient_age_years": "Patient age (years)",
    "patient_sex": "Patient sex",
    "pixel_spacing_mm": "Pixel spacing (mm)",
}


@dataclass(frozen=True)
class ReportRequest:
    study: Study
    user: User
    labels: tuple[str, ...]
    generated_at: datetime.datetime
    metadata: dict[str, Any] | None = None


def report_labels(*, study: Study, requested: Sequence[str] | None) -> tuple[str, ...]:
    """The findings whose heatmaps go in the report: those requested, or by default the positive ones."""
    if study.status != StudyStatus.DONE:
        raise DomainError("A report can be made once the analysis is done.", extra={"status": study.status})
    known = {finding.label: finding for finding in study.findings.all()}
    if requested is None:
        return tuple(label for label, finding in known.items() if finding.positive)
    unknown = [label for label in requested if label not in known]
    if unknown:
        raise DomainError(
            f"This study has no finding {unknown[0]!r}.",
            extra={"field": "labels", "unknown": unknown, "known": sorted(known)},
        )
    return tuple(dict.fromkeys(requested))


def study_report_pdf(report: ReportRequest) -> bytes:
    study = report.study
    card = study.model_card or {}
    findings = sorted(study.findings.all(), key=lambda finding: (not finding.positive, -finding.probability))
    styles = report_styles()

    story: list[Flowable] = [Paragraph("Chest X-ray decision support report", styles["Title"])]
    if card.get("trained") is False:
        story.append(banner(UNTRAINED_TEXT, styles))
    story.append(Paragraph(f"<b>{escape(NOTICE_TEXT)}</b> {escape(NOTICE_DETAIL)}", styles["Notice"]))
    story.append(key_values(study_rows(report), styles))
    story.extend(clinician_section(study, styles))
    story.append(Spacer(1, 0.3 * cm))
    story.append(
        KeepTogether(
            [
                Paragraph("Radiograph", styles["Heading2"]),
                embedded_image(radiograph_image(study), width=9 * cm),
            ]
        )
    )
    story.extend(aggregation_note(study, styles))
    story.append(Paragraph("Findings", styles["Heading2"]))
    story.append(findings_table(findings, styles))
    story.extend(analyser_sections(study, styles))
    if report.labels:
        # The heading is kept with the first row of heatmaps only, so that it never ends a page on
        # its own, and the other rows fill the page after it (kept all together, a grid taller than
        # what was left of a page moved whole to the next and left that page nearly empty).
        first_row, *other_rows = heatmap_rows(study, report.labels, styles)
        story.append(
            KeepTogether(
                [
                    Paragraph("Grad-CAM heatmaps", styles["Heading2"]),
                    Paragraph(
                        "Where the network looked for each finding; blue is little evidence, red the "
                        "most. A heatmap shows attention, not the location of a lesion.",
                        styles["Small"],
                    ),
                    Spacer(1, 0.15 * cm),
                    colour_scale(),
                    Spacer(1, 0.2 * cm),
                    first_row,
                ]
            )
        )
        story.extend(other_rows)
    story.append(Paragraph("Model card", styles["Heading2"]))
    story.append(key_values(model_rows(card, threshold_profile=study.threshold_profile), styles))

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=1.8 * cm,
        rightMargin=1.8 * cm,
        topMargin=1.6 * cm,
        bottomMargin=1.6 * cm,
        title=f"CXR report {study.key_image.original_filename}",
        author=report.user.username,
        subject=NOTICE_TEXT,
    )
    footer = (
        f"{NOTICE_TEXT} Study {study.id} · generated {format_time(report.generated_at)} "
        f"by {report.user.username}"
    )
    if card.get("trained") is False:
        footer = f"{UNTRAINED_TEXT}. {footer}"

    def draw_footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FOOTER_FONT, FOOTER_SIZE)
        canvas.setFillColor(colors.HexColor("#4a5868"))
        page = f"page {doc.page}"
        right = A4[0] - doc.rightMargin
        # The footer wraps short of the page number, bottom line last, so the two never overlap.
        width = right - doc.leftMargin - stringWidth(page, FOOTER_FONT, FOOTER_SIZE) - 0.5 * cm
        lines = simpleSplit(footer, FOOTER_FONT, FOOTER_SIZE, width)
        for index, line in enumerate(reversed(lines)):
            canvas.drawString(doc.leftMargin, 0.6 * cm + index * (FOOTER_SIZE + 2), line)
        canvas.drawRightString(right, 0.6 * cm, page)
        canvas.restoreState()

    document.build(story, onFirstPage=draw_footer, onLaterPages=draw_footer)
    return buffer.getvalue()


NOTICE_DETAIL = (
    "The probabilities below come from a machine-learning model and may be wrong. They support, and never "
    "replace, the judgement of a qualified clinician who has seen the images and the patient."
)


def report_styles() -> dict[str, ParagraphStyle]:
    sample = getSampleStyleSheet()
    return {
        "Title": ParagraphStyle("Title", parent=sample["Title"], fontSize=17, spaceAfter=8),
        "Heading2": ParagraphStyle("Heading2", parent=sample["Heading2"], fontSize=12, spaceBefore=8),
        "Body": ParagraphStyle("Body", parent=sample["BodyText"], fontSize=9, leading=12),
        "Small": ParagraphStyle("Small", parent=sample["BodyText"], fontSize=8, leading=10),
        "Notice": ParagraphStyle(
            "Notice",
            parent=sample["BodyText"],
            fontSize=9,
            leading=12,
            backColor=colors.HexColor("#eaf2fb"),
            borderPadding=5,
            spaceAfter=8,
        ),
        "Banner": ParagraphStyle(
            "Banner",
            parent=sample["BodyText"],
            fontSize=12,
            leading=15,
            textColor=colors.white,
            backColor=colors.HexColor("#a4161a"),
            borderPadding=6,
            spaceAfter=10,
            fontName="Helvetica-Bold",
        ),
    }


def banner(text: str, styles: dict[str, ParagraphStyle]) -> Paragraph:
    return Paragraph(escape(text), styles["Banner"])


def display_label(label: str) -> str:
    return label.replace("_", " ")


def study_rows(report: ReportRequest) -> list[tuple[str, str]]:
    study = report.study
    full_name = report.user.get_full_name()
    rows = [
        ("File", study.key_image.original_filename),
        ("Study", str(study.id)),
        ("Uploaded", format_time(study.created_at)),
        ("Analysed", format_time(study.finished_at)),
        ("Image size", f"{study.key_image.width} x {study.key_image.height} px"),
    ]
    for key, name in METADATA_NAMES.items():
        value = (report.metadata or {}).get(key)
        if isinstance(value, list | tuple):
            value = " x ".join(f"{number:g}" for number in value)
        if value is not None and value != "":
            rows.append((name, str(value)))
    rows += [
        ("Report made", format_time(report.generated_at)),
        ("Made by", f"{report.user.username} ({full_name})" if full_name else report.user.username),
    ]
    return rows


def aggregation_note(study: Study, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """For a study of several images: what its findings are, and which image the report shows."""
    images = list(study.images.all())
    if len(images) < 2:
        return []
    analysed = sum(1 for image in images if image.analysed)
    rule = (study.model_card or {}).get("study_aggregation", DEFAULT_STUDY_AGGREGATION)
    text = (
        f"This study holds {len(images)} images. Its findings are the {RULE_WORDS[rule]} of the "
        f"probabilities of its {analysed} analysed frontal image(s), by the model card's rule ({rule}); "
        f"lateral views are not analysed. The radiograph and heatmaps shown are of its first frontal "
        f"image, {study.key_image.original_filename}."
    )
    return [Paragraph(escape(text), styles["Body"])]


def model_rows(card: dict[str, Any], *, threshold_profile: dict[str, Any] | None) -> list[tuple[str, str]]:
    validation = card.get("validation")
    return [
        ("Name", str(card.get("name", "—"))),
        ("Version", str(card.get("version", "—"))),
        ("Trained", "yes" if card.get("trained") else "no: " + UNTRAINED_TEXT),
        ("Weights SHA-256", card.get("weights_sha256") or "—"),
        ("Thresholds", profile_label(threshold_profile)),
        ("Training data", card.get("training_data") or "—"),
        ("Validation", json.dumps(validation, sort_keys=True) if validation else "—"),
    ]


def key_values(rows: list[tuple[str, str]], styles: dict[str, ParagraphStyle]) -> Table:
    data = [
        [Paragraph(f"<b>{escape(name)}</b>", styles["Body"]), Paragraph(escape(value), styles["Body"])]
        for name, value in rows
    ]
    table = Table(data, colWidths=[4 * cm, 13.4 * cm], hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d2dc")),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def findings_table(findings: list[Finding], styles: dict[str, ParagraphStyle]) -> Table:
    header = ["Finding", "Probability", "Threshold", "Above threshold"]
    rows = [
        [
            display_label(finding.label),
            *percent_pair(finding.probability, finding.threshold),
            "yes" if finding.positive else "no",
        ]
        for finding in findings
    ]
    table = Table(
        [header, *rows], colWidths=[6 * cm, 3.5 * cm, 3.5 * cm, 4.4 * cm], hAlign="LEFT", repeatRows=1
    )
    style = [
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eaf2fb")),
        ("ALIGN", (1, 0), (2, -1), "RIGHT"),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d2dc")),
    ]
    for index, finding in enumerate(findings, start=1):
        if finding.positive:
            style += [
                ("FONTNAME", (0, index), (-1, index), "Helvetica-Bold"),
                ("TEXTCOLOR", (0, index), (-1, index), colors.HexColor("#a4161a")),
            ]
    table.setStyle(TableStyle(style))
    return table


def analyser_sections(study: Study, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    """The other analysers' results (studies.analyser_runs), each with its own untrained warning."""
    runs = {run.kind: run for run in study.analyser_runs.all()}
    sections: list[Flowable] = []
    screener = runs.get(SCREENER)
    if screener is not None:
        sections += [
            Paragraph("Normal/abnormal screener", styles["Heading2"]),
            *analyser_warning(screener, styles),
        ]
        result = analyser_run_result(screener)
        if isinstance(result, ScreenerResult):
            verdict = "likely abnormal" if result.likely_abnormal else "below its threshold"
            probability, threshold = percent_pair(result.probability, result.threshold)
            sections.append(
                Paragraph(
                    f"Probability of any abnormality {probability} "
                    f"(threshold {threshold}): {verdict}. The screener ranks "
                    "and flags studies; it never reports a study as normal.",
                    styles["Body"],
                )
            )
    segmentation = runs.get(SEGMENTATION)
    if segmentation is not None:
        sections += [Paragraph("Anatomy and cardiothoracic ratio", styles["Heading2"])]
        sections += analyser_warning(segmentation, styles)
        anatomy = analyser_run_result(segmentation)
        if isinstance(anatomy, SegmentationResult):
            sections += cardiothoracic_section(study, segmentation, anatomy, styles)
    return sections


def analyser_warning(run: AnalyserRun, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    card = run.card or {}
    if run.status != StudyStatus.DONE:
        return [
            Paragraph(escape(f"Not available: the analysis is {run.status}. {run.message}"), styles["Body"])
        ]
    name = f"{card.get('name', run.kind)} {card.get('version', '')}".strip()
    if card.get("trained") is False:
        return [banner(f"{UNTRAINED_TEXT} ({name})", styles)]
    return [Paragraph(escape(f"Model: {name}"), styles["Small"])]


def cardiothoracic_section(
    study: Study, run: AnalyserRun, result: SegmentationResult, styles: dict[str, ParagraphStyle]
) -> list[Flowable]:
    ratio = result.cardiothoracic_ratio
    if ratio is None:
        note = result.cardiothoracic_ratio_note or "No cardiothoracic ratio was measured."
        return [Paragraph(escape(note), styles["Body"])]
    flag = "above the normal range" if ratio.above_range else "within the normal range"
    text = (
        f"Cardiothoracic ratio {ratio.ratio:.2f} ({flag}: at most {ratio.normal_upper_limit:.2f} on a "
        "PA film). Red: the heart's widest extent; blue: the thorax's widest inner extent."
    )
    if ratio.caveat:
        text += f" {ratio.caveat}"
    return [
        Paragraph(escape(text), styles["Body"]),
        embedded_image(measurement_drawing(study, run, ratio), width=9 * cm),
    ]


def measurement_drawing(study: Study, run: AnalyserRun, ratio: CardiothoracicRatio) -> Image.Image:
    """The radiograph with the anatomy outlines and the two measurement lines drawn on it."""
    image = radiograph_image(study).convert("RGB")
    draw = ImageDraw.Draw(image)
    line_width = max(2, image.width // 300)
    outlines = segmentation_outlines(study=study, run=run)
    for structure in outlines["structures"]:
        for polygon in structure["outlines"]:
            if len(polygon) >= 2:
                draw.line([tuple(point) for point in [*polygon, polygon[0]]], fill=(255, 210, 0), width=1)
    for line, colour in ((ratio.heart_line, (220, 30, 30)), (ratio.thorax_line, (30, 90, 230))):
        draw.line([tuple(point) for point in line.to_list()], fill=colour, width=line_width)
    return image


def radiograph_image(study: Study) -> Image.Image:
    return Image.open(io.BytesIO(storage.read_file(study.key_image.display_file.name))).convert("RGBA")


def heatmap_overlay(study: Study, label: str) -> Image.Image:
    radiograph = radiograph_image(study)
    heatmap = Image.open(io.BytesIO(image_heatmap_png(image=study.key_image, label=label))).convert("RGBA")
    if heatmap.size != radiograph.size:
        heatmap = heatmap.resize(radiograph.size, Image.Resampling.BILINEAR)
    return Image.alpha_composite(radiograph, heatmap)


def embedded_image(image: Image.Image, *, width: float) -> PdfImage:
    picture = image.convert("RGB")
    picture.thumbnail((EMBEDDED_IMAGE_PIXELS, EMBEDDED_IMAGE_PIXELS), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="JPEG", quality=88)
    buffer.seek(0)
    height = width * picture.height / picture.width
    return PdfImage(buffer, width=width, height=height, hAlign="LEFT")


def heatmap_rows(study: Study, labels: tuple[str, ...], styles: dict[str, ParagraphStyle]) -> list[Table]:
    """The heatmaps two by two, one table per row, so that a page break falls between rows."""
    findings = {finding.label: finding for finding in study.findings.all()}
    cells = []
    for label in labels:
        finding = findings[label]
        probability, threshold = percent_pair(finding.probability, finding.threshold)
        caption = (
            f"<b>{escape(display_label(label))}</b> {probability} "
            f"(threshold {threshold})"
            f"{' — above threshold' if finding.positive else ''}"
        )
        cells.append(
            [embedded_image(heatmap_overlay(study, label), width=8 * cm), Paragraph(caption, styles["Small"])]
        )
    rows = [cells[index : index + 2] for index in range(0, len(cells), 2)]
    if len(rows[-1]) == 1:
        rows[-1].append("")
    tables = []
    for row in rows:
        table = Table([row], colWidths=[8.7 * cm, 8.7 * cm], hAlign="LEFT")
        table.setStyle(
            TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOTTOMPADDING", (0, 0), (-1, -1), 8)])
        )
        tables.append(table)
    return tables


def colour_scale() -> Table:
    """The heatmap colour map as a strip, low to high, with its ends named."""
    steps = 32
    swatches = [
        HEATMAP_LUT[round(index * 255 / (steps - 1))][:3].astype(np.float64) / 255.0 for index in range(steps)
    ]
    row = ["low", *([""] * steps), "high"]
    table = Table(
        [row], colWidths=[1 * cm, *([0.3 * cm] * steps), 1 * cm], rowHeights=[0.4 * cm], hAlign="LEFT"
    )
    style = [
        ("FONTSIZE", (0, 0), (-1, -1), 7),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("ALIGN", (0, 0), (0, 0), "RIGHT"),
    ]
    for index, (red, green, blue) in enumerate(swatches, start=1):
        style.append(("BACKGROUND", (index, 0), (index, 0), colors.Color(red, green, blue)))
    table.setStyle(TableStyle(style))
    return table
