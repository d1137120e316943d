"""The network inputs of a study, as the web process prepared them when it took the upload in."""

from ml.pipeline import Pipeline, PreparedImage
from studies import storage
from studies.models import Study, StudyImage


def prepared_input(
    study: Study | StudyImage, pipeline: Pipeline, *, analyser: str | None = None
) -> PreparedImage:
    """The inputs the web process prepared, or, where they were made for another card, prepared again.

    ``study`` is one image of a study (the classifier reads each), or the study itself, whose files
    are its key image's (the other analysers read that one).
    ``analyser`` None asks for the classifier's input, else for that analyser's (ml.analysers). A
    study answered from the result cache has no stored inputs, and one stored before an installed
    card changed has outdated ones: both are prepared again from the stored original.
    """
    if study.model_input_file:
        prepared = PreparedImage.from_bytes(storage.read_file(study.model_input_file.name))
        if analyser is None and prepared.preprocessing == pipeline.preprocessing_key:
            return prepared
        analysers = pipeline.analysers
        wanted = analysers.input_key(analyser) if analyser is not None and analysers is not None else None
        if wanted is not None and prepared.analyser_keys.get(analyser) == wanted:
            return prepared
    return pipeline.intake(storage.read_file(study.original_file.name)).prepared
