"""Field offices and their areas of responsibility: who owns a place."""
