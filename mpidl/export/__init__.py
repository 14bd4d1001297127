"""Taking a model out of mpidl: a standalone numpy scorer, an ONNX graph, weight tables."""
