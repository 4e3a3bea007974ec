"""What the app and the trainer must agree on, written once (docs/ARCHITECTURE.md).

Neither Qt nor TensorFlow is imported here or below: ``model_training`` may import this package
and nothing else of ``petseg_gui``; the app imports it freely.
"""
