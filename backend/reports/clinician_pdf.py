"""The clinician's part of the PDF report: the signed report's text and impression, the signer's
verdict on each finding (feedback), who signed and when; or, before any signature, that the
findings are the model's alone."""

from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import cm
from reportlab.platypus import Flowable, Paragraph, Table, TableStyle

from feedback.models import FindingFeedback, Verdict
from reports.formatting import format_time
from reports.models import ClinicianReport
from reports.selectors import report_signed
from studies.models import Study

NOT_SIGNED_TEXT = (
    "Not signed: no clinician has signed a report of this study yet. The findings below are the "
    "model's alone."
)


def clinician_section(study: Study, styles: dict[str, ParagraphStyle]) -> list[Flowable]:
    signed = report_signed(study_id=study.pk)
    section: list[Flowable] = [Paragraph("Clinician's report", styles["Heading2"])]
    if signed is None:
        return [*section, Paragraph(escape(NOT_SIGNED_TEXT), styles["Body"])]
    section.append(Paragraph(f"<b>Impression:</b> {paragraph_text(signed.impression)}", styles["Body"]))
    if signed.text:
        section.append(Paragraph(paragraph_text(signed.text), styles["Body"]))
    section.append(Paragraph(escape(signature_line(signed)), styles["Small"]))
    verdicts = FindingFeedback.objects.filter(study=study, user=signed.signed_by).order_by("label")
    if verdicts:
        section.append(verdicts_table(list(verdicts), styles))
    return section


def paragraph_text(text: str) -> str:
    return escape(text).replace("\n", "<br/>")


def signature_line(signed: ClinicianReport) -> str:
    full_name = signed.signed_by.get_full_name()
    who = f"{signed.signed_by.username} ({full_name})" if full_name else signed.signed_by.username
    line = f"Signed by {who} on {format_time(signed.signed_at)}, version {signed.version}."
    if signed.amendment_reason:
        line += f" Amends version {signed.version - 1}: {signed.amendment_reason}"
    return line


def verdicts_table(verdicts: list[FindingFeedback], styles: dict[str, ParagraphStyle]) -> Table:
    rows = [
        [
            Paragraph(escape(item.label.replace("_", " ")), styles["Body"]),
            Paragraph(escape(Verdict(item.verdict).label), styles["Body"]),
            Paragraph(escape(item.note or ""), styles["Body"]),
        ]
        for item in verdicts
    ]
    header = [
        Paragraph(f"<b>{name}</b>", styles["Body"]) for name in ("Finding", "Clinician's verdict", "Note")
    ]
    table = Table([header, *rows], colWidths=[5 * cm, 3.5 * cm, 8.9 * cm], hAlign="LEFT", repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eaf2fb")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9d2dc")),
            ]
        )
    )
    return table
