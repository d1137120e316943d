"""Running the classifier: preprocessing, the DenseNet121 on OpenVINO or Keras, postprocessing."""
