"""The network inputs of a study's images, as the web process prepared them when it took the upload in."""

from ml.pipeline import Pipeline
from ml.prepared import PreparedImage
from studies import storage
from studies.models import StudyImage


def prepared_input(image: StudyImage, pipeline: Pipeline, *, kind: str) -> PreparedImage:
    """The inputs the web process prepared, or, where ``kind``'s was made for another card, prepared again.

    The classifier reads each analysed image of a study; the other analysers and the explanations
    read its key image. An image answered from the result cache has no stored inputs, and one stored
    before an installed card changed has outdated ones: both are prepared again from the stored
    original.
    """
    if image.model_input_file:
        prepared = PreparedImage.from_bytes(storage.read_file(image.model_input_file.name))
        if prepared.input_keys.get(kind) == pipeline.analysers.input_key(kind) and kind in prepared.inputs:
            return prepared
    return pipeline.radiograph_intake(storage.read_file(image.original_file.name)).prepared
