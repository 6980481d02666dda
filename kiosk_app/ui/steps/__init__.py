"""Views for the step player: the chrome around a step and one view per step type."""
