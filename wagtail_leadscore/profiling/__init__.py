"""Progressive profiling: forms that ask a visitor a few new questions at a time."""
