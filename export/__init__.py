"""fclf_edge.export: checkpoint -> validated ONNX (needs the 'train' extra)."""
