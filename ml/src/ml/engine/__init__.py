"""One engine for every network: a Keras network converted once to OpenVINO, cached, and compiled.

A caller says what to build (``source.NetworkSource``: a builder's dotted name, its JSON
arguments, and what the network's numbers depend on) and ``loading.load_network`` answers a
network to run: OpenVINO's CPU runtime (the converted model read from the cache in
``$CXR_MODEL_CACHE``; on a miss a child process converts it, so the analysing process never
imports TensorFlow), or Keras on TensorFlow where ``backend.resolve_backend`` chooses Keras
(a GPU, or asked for). Nothing here knows which networks exist: the packages of the models
name their own builders.
"""
