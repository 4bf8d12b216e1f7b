"""The encoder: audio -> signal -> segments -> fitted networks -> quantized codes -> .ddc.

codec/encoder/pipeline.py runs the steps in order; importing this package alone
imports nothing (torch is only imported by fit.py, through the pipeline).
"""
