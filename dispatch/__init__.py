"""Field crews, job priority, the assignment optimiser, travel time and ETR estimation."""
