"""Station NVR test suite."""
