"""The network inputs of a study, as the web process prepared them when it took the upload in."""

from ml.pipeline import Pipeline
from ml.prepared import PreparedImage
from studies import storage
from studies.models import Study, StudyImage


def prepared_input(study: Study | StudyImage, pipeline: Pipeline, *, kind: str) -> PreparedImage:
    """The inputs the web process prepared, or, where ``kind``'s was made for another card, prepared again.

    ``study`` is one image of a study (the classifier reads each), or the study itself, whose files
    are its key image's (the other analysers read that one). A study answered from the result cache
    has no stored inputs, and one stored before an installed card changed has outdated ones: both
    are prepared again from the stored original.
    """
    if study.model_input_file:
        prepared = PreparedImage.from_bytes(storage.read_file(study.model_input_file.name))
        if prepared.input_keys.get(kind) == pipeline.analysers.input_key(kind) and kind in prepared.inputs:
            return prepared
    return pipeline.radiograph_intake(storage.read_file(study.original_file.name)).prepared
