"""Chest CT series: reading (DICOM folder or zip, multi-frame DICOM, NIfTI), the lung window,
a ResNet-18 scoring each slice, the patient's result over slices, and ``python -m ml train-ct``.

Importing ``series``, ``window``, ``card`` or ``strip`` never imports TensorFlow: the web
process reads and checks uploads with them. ``model``, ``network`` and ``training`` build Keras
networks; ``analyser.CTAnalyser.load`` runs the network through ``ml.engine`` (OpenVINO on a
CPU, no TensorFlow imported).
"""
