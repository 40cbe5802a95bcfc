"""flashcore: spaced-repetition flashcards for USMLE Step 1, weighted by the questions you miss."""

__version__ = "0.1.0"
