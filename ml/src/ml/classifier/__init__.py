"""The 14-finding ChestX-ray14 classifier (DenseNet121): its analyser in the one contract."""
