"""Intake of radiographs: decoding PNG, JPEG and DICOM, screening, de-identification, display copies.

Nothing here imports TensorFlow or OpenVINO: the web process runs all of it on every upload.
"""
