"""Train, evaluate and export the petseg U-Net: `python -m model_training --help`."""
